"""群群发 from the community pages: groups picked by type (and ticked one by one) become a group
mass message planned by messaging, previewed on its page, confirmed, and sent by each owner."""

from __future__ import annotations

from siyu.community.models import CustomerGroup, GroupType
from siyu.community.services import refresh_group
from siyu.messaging.models import MassGroupRecipient, MassMessage, MassStatus, RecipientStatus
from siyu.messaging.services import send_message


def _group(club, name, owner, type_):
    chat_id = club.group(name, [], owner=owner)
    found = refresh_group(club.workspace, chat_id)
    CustomerGroup.objects.for_workspace(club.workspace).filter(pk=found.pk).update(type=type_)
    return found


def test_groups_picked_by_type_get_a_group_mass_message(club, client):
    a = _group(club, "福利一群", "staff0", GroupType.WELFARE)
    b = _group(club, "福利二群", "staff1", GroupType.WELFARE)
    c = _group(club, "知识群", "staff0", GroupType.KNOWLEDGE)
    client.force_login(club.brand.members["planner"])
    page = client.get("/community/mass/?type=welfare", HTTP_HOST="localhost").content.decode()
    assert f'data-group="{a.chat_id}"' in page and f'data-group="{b.chat_id}"' in page
    assert f'data-group="{c.chat_id}"' not in page

    # Untick group 2: only group 1 gets it.
    planned = client.post("/community/mass/", {"type": "welfare", "group": [str(a.pk)], "name": "周五福利",
                                               "text": "周五福利来啦"}, HTTP_HOST="localhost")
    assert planned.status_code == 302
    message = MassMessage.objects.for_workspace(club.workspace).get()
    assert planned["Location"].endswith(f"/content/messages/{message.pk}/")
    assert (message.target_kind, message.planned_count) == ("groups", 1)
    detail = client.get(planned["Location"], HTTP_HOST="localhost").content.decode()
    assert 'data-testid="planned">1<' in detail
    client.post(f"/content/messages/{message.pk}/confirm/", HTTP_HOST="localhost")
    send_message(club.workspace, message.pk)
    message.refresh_from_db()
    assert message.status == MassStatus.SENT
    [task] = club.twin.state()["mass_tasks"]
    assert (task["creator"], task["chat_type"], [s["chat_id"] for s in task["sends"]]) == (
        "staff0", "group", [a.chat_id])
    assert MassGroupRecipient.unscoped.get(message=message).status == RecipientStatus.PENDING


def test_a_role_without_mass_message_rights_is_told(club, client):
    _group(club, "福利一群", "staff0", GroupType.WELFARE)
    client.force_login(club.brand.members["merchandiser"])
    answer = client.post("/community/mass/", {"type": "all", "name": "x", "text": "x"}, HTTP_HOST="localhost")
    assert answer.status_code == 200 and 'data-testid="mass-error"' in answer.content.decode()
    assert not MassMessage.objects.for_workspace(club.workspace).exists()
