"""A flood of forged callbacks: every one is refused, a few are recorded, the rest are counted
(`siyu.wecom.rejections`). transactional_db: the counts are added by a timer thread of the
process, on its own database connection."""

import time

from siyu.wecom import rejections, services
from siyu.wecom.crypto import CallbackCipher
from siyu.wecom.models import CallbackRejection
from tests.conftest import seat, wait_for
from tests.wecom.conftest import AES_KEY, CORP_ID, TOKEN, contact_xml

FORGED = CallbackCipher(TOKEN, AES_KEY, CORP_ID).encrypt_event(contact_xml(), "1", "1", "1")[1]


def forge(client, n: int, remote_addr: str = "127.0.0.1") -> None:
    response = client.post(f"/wecom/callback/alpha/?msg_signature=forged&timestamp={int(time.time())}&nonce={n}",
                           FORGED, content_type="text/xml", REMOTE_ADDR=remote_addr)
    assert (response.status_code, response.content) == (400, b"bad_signature")


def refused_last_hour(brand) -> int:
    return services.health(brand.workspace, seat(brand.admin, brand.workspace)).rejections_last_hour


def test_a_flood_from_one_address_is_recorded_a_few_rows_a_minute_and_counted(transactional_db, connected, client):
    for n in range(500):
        forge(client, n)
    rows = CallbackRejection.objects.for_workspace(connected.workspace)
    assert rows.count() == rejections.RECORD_PER_SOURCE
    assert {(r.reason, r.remote_addr) for r in rows} == {("bad_signature", "127.0.0.1")}
    wait_for(lambda: refused_last_hour(connected) == 500, timeout=10)  # the health panel shows the flood
    forge(client, 500, remote_addr="203.0.113.9")  # another source is recorded still
    assert rows.filter(remote_addr="203.0.113.9").count() == 1


def test_a_flood_from_many_addresses_is_capped_per_brand(transactional_db, connected, client):
    for n in range(250):
        forge(client, n, remote_addr=f"2001:db8:{n:x}::1")  # one /64 each
    assert CallbackRejection.objects.for_workspace(connected.workspace).count() == rejections.RECORD_PER_BRAND
    wait_for(lambda: refused_last_hour(connected) == 250, timeout=10)
