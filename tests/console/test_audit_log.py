"""The audit log page and `/api/audit-log`: entries read as Chinese sentences (who, what, before →
after), filters by person, module, action and day, pages with a bounded number of queries, an
.xlsx export, and a long value that does not widen the table."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from siyu.core import services
from siyu.core.models import AuditAction, AuditEntry
from siyu.segments.services import export_customers
from tests.conftest import make_member, seat
from tests.segments.conftest import make_customer, make_shop


def _changed(brand, who, name, before, after, module="channels", at=None):
    entry = services.audit_change(brand.workspace, seat(who, brand.workspace), AuditAction.UPDATED, module=module,
                                  subject=gettext_lazy("channel code"), name=name,
                                  changes=[services.change(gettext_lazy("welcome message"), before, after)])
    if at is not None:
        AuditEntry.unscoped.filter(pk=entry.pk).update(at=at)
    return entry


def test_an_export_entry_reads_as_words_not_english_key_value(brand_a, login):
    shop = make_shop(brand_a)
    customer = make_customer(shop, "wmAUDIT")
    export_customers(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), [customer.pk],
                     ["nickname", "tags"])
    page = login(brand_a.admin).get("/audit/").content.decode()
    assert "columns=" not in page and "rows=" not in page and "['nickname'" not in page
    assert "行数：1" in page and "昵称、标签" in page
    assert "客户" in page  # the module, in words


def test_a_change_reads_as_target_and_before_to_after_in_chinese_and_english(brand_a, login):
    _changed(brand_a, brand_a.members["planner"], "门店A", "你好", "欢迎光临")
    page = login(brand_a.admin).get("/audit/").content.decode()
    assert "渠道码「门店A」" in page
    assert "欢迎语：你好 → 欢迎光临" in page
    assert "alpha-planner" in page and "修改" in page
    with translation.override("en"):
        entry = AuditEntry.objects.for_workspace(brand_a.workspace).get(action=AuditAction.UPDATED)
        from siyu.core.auditing import describe
        assert describe(entry) == "Channel code “门店A”: Welcome message: 你好 → 欢迎光临"


def test_the_page_filters_by_person_module_action_and_day(brand_a, login):
    planner, ops = brand_a.members["planner"], brand_a.members["ops_lead"]
    long_ago = timezone.now() - dt.timedelta(days=40)
    _changed(brand_a, planner, "门店A", "a", "b")
    _changed(brand_a, ops, "门店B", "a", "b")
    _changed(brand_a, planner, "人设C", "a", "b", module="ip")
    _changed(brand_a, planner, "旧码D", "a", "b", at=long_ago)
    client = login(brand_a.admin)

    def targets(query):
        return {r for r in ("门店A", "门店B", "人设C", "旧码D") if r in client.get("/audit/" + query).content.decode()}

    assert targets("?actor=alpha-planner") == {"门店A", "人设C", "旧码D"}
    assert targets("?module=ip") == {"人设C"}
    assert targets("?module=channels&actor=alpha-ops_lead") == {"门店B"}
    assert targets("?action=updated&module=channels") == {"门店A", "门店B", "旧码D"}
    assert targets("?action=role_changed") == set()
    day = timezone.localdate(long_ago).isoformat()
    assert targets(f"?since={day}&until={day}") == {"旧码D"}
    assert targets(f"?since={timezone.localdate().isoformat()}") == {"门店A", "门店B", "人设C"}
    page = client.get("/audit/").content.decode()
    assert 'value="ip"' in page and "品牌 IP" in page  # the module filter names the modules in words


def test_the_page_is_paged_and_its_queries_stay_bounded(brand_a, login, django_assert_max_num_queries):
    planner = brand_a.members["planner"]
    for i in range(120):
        _changed(brand_a, planner, f"码{i:03d}", "a", "b")
    client = login(brand_a.admin)
    with django_assert_max_num_queries(12):
        first = client.get("/audit/").content.decode()
    assert first.count('data-testid="audit-row"') == services.AUDIT_PAGE_SIZE
    assert "码119" in first and "码000" not in first and "page=2" in first
    with django_assert_max_num_queries(12):
        last = client.get("/audit/?page=3&actor=alpha-planner").content.decode()
    assert "码000" in last and last.count('data-testid="audit-row"') == 20


def test_a_long_value_is_cut_in_the_table_and_whole_when_expanded(brand_a, login):
    long_text = "很长的欢迎语" * 80
    _changed(brand_a, brand_a.members["planner"], "门店A", "短", long_text)
    page = login(brand_a.admin).get("/audit/").content.decode()
    assert "console/audit.css" in page and "audit-table" in page
    assert "<details>" in page and long_text in page  # whole, on expand
    shown = page.split("<summary")[1].split("</summary>")[0].split(">", 1)[1]  # the text, not the hover title
    assert long_text not in shown and "…" in shown


def test_the_export_is_a_workbook_of_the_filtered_entries_and_is_logged(brand_a, login):
    _changed(brand_a, brand_a.members["planner"], "门店A", "你好", "欢迎光临")
    _changed(brand_a, brand_a.members["ops_lead"], "门店B", "a", "b")
    client = login(brand_a.admin)
    response = client.post("/audit/export/?actor=alpha-planner")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("时间", "操作人", "模块", "操作", "操作对象", "详情")
    assert len(rows) == 2 and rows[1][4] == "渠道码「门店A」" and rows[1][5] == "欢迎语：你好 → 欢迎光临"
    entry = AuditEntry.objects.for_workspace(brand_a.workspace).filter(action=AuditAction.EXPORT).get()
    assert entry.module == "core" and entry.actor == brand_a.admin


def test_only_a_role_that_may_export_the_log_gets_the_button_and_the_file(brand_a, login):
    viewer = make_member(brand_a.workspace, "alpha-viewer", "ops_lead")
    assert login(viewer).post("/audit/export/").status_code == 403
    page = login(brand_a.admin).get("/audit/").content.decode()
    assert 'data-testid="audit-export"' in page


def test_the_api_gives_the_same_words_and_filters(brand_a, client):
    _changed(brand_a, brand_a.members["planner"], "门店A", "你好", "欢迎光临")
    _changed(brand_a, brand_a.members["ops_lead"], "门店B", "a", "b")
    client.force_login(brand_a.admin)
    items = client.get("/api/audit-log?actor=alpha-planner&module=channels&action=updated").json()
    assert [i["target"] for i in items] == ["门店A"]
    assert items[0]["summary"] == "渠道码「门店A」：欢迎语：你好 → 欢迎光临"
    assert items[0]["module_label"] == "渠道活码" and items[0]["action_label"] == "修改"
    assert items[0]["detail"]["changes"][0]["before"] == "你好"
    assert client.get("/api/audit-log?limit=1&page=2").json()[0]["target"] == "门店A"
    today = timezone.localdate().isoformat()
    assert len(client.get(f"/api/audit-log?since={today}&until={today}").json()) == 2
    assert client.get("/api/audit-log?since=1000-01-01").status_code == 422


@pytest.mark.parametrize("role", ["ops_lead", "planner", "copywriter"])
def test_roles_without_the_audit_column_cannot_read_the_log(brand_a, login, role):
    assert login(brand_a.members[role]).get("/audit/").status_code == 403
