"""The analytics page in Chinese (issue 12): its date fields are 从 / 至, not the transfers page's
转出 / 转入, and English words shared between pages carry a context so one page's translation
never leaks into another's."""

from __future__ import annotations

import re


def labels_of(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", label).strip()
            for label in re.findall(r'<label class="form-label" for="(?:start|end)">(.*?)</label>', html)]


def test_the_analytics_date_fields_read_from_and_to_not_transfer_words(brand_a, login):
    html = login(brand_a.admin).get("/channels/analytics/").content.decode()
    assert labels_of(html) == ["从", "至"]
    assert "转出" not in html and "转入" not in html


def test_the_transfers_page_keeps_its_own_from_and_to(brand_a, login):
    html = login(brand_a.admin).get("/customers/transfers/").content.decode()
    head = html.split('data-testid="transfer-history"', 1)[1].split("</thead>", 1)[0]
    assert "<th>转出</th><th>转入</th>" in head


def test_the_analytics_columns_and_the_timeline_name_welfare_each_in_their_own_words(brand_a, login):
    html = login(brand_a.admin).get("/channels/analytics/").content.decode()
    assert "福利发放" in html and "员工删除" in html and "已发放福利" not in html


def test_the_ranking_columns_come_in_groups_the_reader_can_hide(brand_a, login):
    from tests.channels.test_analytics import make_code

    make_code(brand_a.workspace, "南京西路店", "store")
    html = login(brand_a.admin).get("/channels/analytics/").content.decode()
    choosers = html.split('data-testid="column-groups"', 1)[1].split("</div>", 1)[0]
    assert [g for g in ("rate", "money", "commerce") if f'data-column-group="{g}"' in choosers] == ["rate", "money", "commerce"]
    assert 'data-column-group="commerce">' in choosers  # commerce (empty until the mall) starts hidden
    ranking = html.split('data-testid="code-ranking"', 1)[1].split("</table>", 1)[0]
    head = ranking.split("</thead>", 1)[0]
    assert head.count('data-kind="rate"') == 3 and head.count('data-kind="commerce"') == 2
    assert ranking.count("<th") == 18  # #, code, touchpoint and 15 figures; QR and poster sit under the name
    assert "/qr.png" in ranking.split("</td>", 2)[1]
