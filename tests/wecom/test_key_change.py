"""New callback keys take effect at once in every web process, though each keeps a brand's keys
in memory for a few seconds (`CONNECTION_CACHE_SECONDS`)."""

import urllib.parse

import pytest

from siyu.wecom import services
from tests.conftest import callbacks_received, siyu_process
from tests.wecom.conftest import CORP_ID, contact_xml, post_callback, url_check

NEW_TOKEN = "RotatedToken7"
NEW_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.mark.slow
def test_keys_saved_by_another_process_are_used_at_once_and_the_old_ones_refused(
    process_env, connected, client, monkeypatch, tmp_path
):
    monkeypatch.setattr(services, "CONNECTION_CACHE_SECONDS", 600.0)  # however long `siyu` takes to start
    assert post_callback(client, contact_xml(external="wmBEFORE")).status_code == 200  # the keys are cached now

    log = tmp_path / "configure.log"
    configure = siyu_process(["wecom", "configure", "--workspace", "alpha", "--corp-id", CORP_ID, "--agent-id",
                              "1000002", "--secret", "s", "--token", NEW_TOKEN, "--aes-key", NEW_AES_KEY],
                             process_env, log)
    assert configure.wait(timeout=120) == 0, log.read_text()

    # WeCom checks the URL right after the admin saved, then delivers with the new keys.
    check = client.get(f"/wecom/callback/alpha/?{urllib.parse.urlencode(url_check(b'echo-1', token=NEW_TOKEN, aes_key=NEW_AES_KEY))}")
    assert (check.status_code, check.content) == (200, b"echo-1")
    new = post_callback(client, contact_xml(external="wmAFTER"), token=NEW_TOKEN, aes_key=NEW_AES_KEY)
    assert new.status_code == 200
    old = post_callback(client, contact_xml(external="wmOLDKEYS"))
    assert (old.status_code, old.content) == (400, b"bad_signature")
    assert callbacks_received(connected.workspace) == 2
