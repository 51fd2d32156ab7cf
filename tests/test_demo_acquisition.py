"""The demo's acquisition loop against a real twin: accounts synced and dressed, welfare and six
channel codes created through the services, the twin's population scanning them; a restart of
the twin (empty memory) gets its contact ways back and nothing is created twice."""

import httpx
import pytest

from siyu.accounts.models import StaffAccount
from siyu.channels.demo import DEMO_CODES, DEMO_GROUPS, DEMO_LINK
from siyu.channels.models import ChannelCode, CodeGroup, CodeKind, Welfare, WelfareCode
from siyu.core.services import OPERATOR
from siyu.customers.models import CustomField
from siyu.demo import ensure_demo_brand, run_demo_steps
from siyu.segments.models import Segment
from siyu.simulator.demo import DEMO_STAFF, DEMO_TOUCHPOINTS
from siyu.tags.demo import DEMO_TAG_GROUPS
from siyu.tags.models import Tag, TagRule
from siyu.wecom import services as wecom
from tests.simulator.twin import AES_KEY, CORP_ID, SECRET, TOKEN, running_twin, twin_config

pytestmark = pytest.mark.slow


def _start(twin):
    for userid, name in DEMO_STAFF.items():
        twin.add_staff(userid, name=name)


def test_the_demo_brand_gets_six_scannable_codes_a_link_and_groups_and_a_restarted_twin_gets_them_back(db, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    demo = ensure_demo_brand()
    ws = demo.workspace
    with running_twin(twin_config()) as twin:
        _start(twin)
        wecom.configure(ws, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret=SECRET, token=TOKEN,
                        aes_key=AES_KEY, api_base=twin.api_base)
        run_demo_steps(ws, after_twin=True)
        made = ChannelCode.objects.for_workspace(ws).values_list("name", flat=True)
        assert sorted(made) == sorted([*(name for name, *_ in DEMO_CODES), DEMO_LINK[0]])
        link_code = ChannelCode.objects.for_workspace(ws).get(name=DEMO_LINK[0])
        assert link_code.kind == CodeKind.ACQUISITION_LINK and link_code.link_url.endswith(link_code.state)
        assert sorted(CodeGroup.objects.for_workspace(ws).values_list("name", flat=True)) == sorted(DEMO_GROUPS)
        ways = {w["remark"]: w for w in twin.state()["contact_ways"]}
        # Every touchpoint of the population scans a code the brand made.
        assert {tp.code_remark for tp in DEMO_TOUCHPOINTS} <= set(ways)
        code = ChannelCode.objects.for_workspace(ws).get(name="门店扫码")
        assert ways["门店扫码"]["state"] == code.state and ways["门店扫码"]["user"]
        scanned = httpx.post(f"{twin.url}/twin/customers/add",
                             json={"name": "王小雨", "config_id": code.config_id}).json()
        assert scanned["state"] == code.state
        groups_at_twin = {g["group_name"] for g in twin.api("externalcontact/get_corp_tag_list", {})["tag_group"]}
    assert {name for name, *_ in DEMO_TAG_GROUPS} <= groups_at_twin
    assert TagRule.objects.for_workspace(ws).count() == 4
    assert CustomField.objects.for_workspace(ws).count() == 3
    assert Segment.objects.for_workspace(ws).count() == 4
    accounts = StaffAccount.objects.for_workspace(ws).filter(persona__name="小完子")
    assert accounts.count() == 4
    coupon = Welfare.objects.for_workspace(ws).get(name="新人专享券")
    assert WelfareCode.objects.for_workspace(ws).filter(welfare=coupon).count() == 3000

    with running_twin(twin_config()) as restarted:  # a new twin process: it knows no contact way
        _start(restarted)
        wecom.configure(ws, OPERATOR, corp_id=CORP_ID, agent_id="1000002", secret=SECRET, token=TOKEN,
                        aes_key=AES_KEY, api_base=restarted.api_base)
        codes_before = set(ChannelCode.objects.for_workspace(ws).values_list("pk", flat=True))
        run_demo_steps(ws, after_twin=True)
        assert set(ChannelCode.objects.for_workspace(ws).values_list("pk", flat=True)) == codes_before
        states = {w["state"] for w in restarted.state()["contact_ways"]}
    ways_of_codes = ChannelCode.objects.for_workspace(ws).filter(kind=CodeKind.CONTACT_WAY)
    assert states == set(ways_of_codes.values_list("state", flat=True))
    assert ChannelCode.objects.for_workspace(ws).count() == 7
    # The restarted twin forgot the tags: they were made again, and rules and segments follow them.
    live = set(Tag.objects.for_workspace(ws).filter(deleted_at__isnull=True).values_list("pk", flat=True))
    assert {rule.tag_id for rule in TagRule.objects.for_workspace(ws)} <= live
    segment = Segment.objects.for_workspace(ws).get(name="门店新客")
    assert set(segment.rule["rules"][0]["value"]) <= live
    assert Segment.objects.for_workspace(ws).count() == 4 and TagRule.objects.for_workspace(ws).count() == 4
