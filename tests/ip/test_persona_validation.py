import io
import os

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from siyu.ip import services
from siyu.ip.models import Archetype, Persona
from tests.conftest import seat
from tests.ip.conftest import image_bytes, make_persona, persona_input, upload


def save(brand, data, avatar=None, persona_id=None):
    return services.save_persona(brand.workspace, seat(brand.members["planner"], brand.workspace), data, avatar, persona_id)


@pytest.mark.parametrize("field", ["name", "gender", "company_role", "generation", "value_offered"])
def test_each_required_dimension_left_empty_is_refused_on_its_own_field(brand_a, field):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(**{field: ""}), upload())
    assert set(refused.value.message_dict) == {field}
    assert not Persona.objects.for_workspace(brand_a.workspace).exists()


def test_a_persona_without_an_avatar_is_refused_on_the_avatar_field(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), avatar=None)
    assert set(refused.value.message_dict) == {"avatar"}


def test_required_errors_are_in_chinese_by_default(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(name="   "), upload())
    assert "名字" in refused.value.message_dict["name"][0]


def test_all_missing_dimensions_are_reported_at_once(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(name="", gender="", value_offered=""), None)
    assert set(refused.value.message_dict) == {"name", "gender", "value_offered", "avatar"}


def test_an_unknown_gender_or_age_label_is_refused(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(gender="robot", generation="60s"), upload())
    assert set(refused.value.message_dict) == {"gender", "generation"}


def test_a_file_that_is_not_an_image_is_refused(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), upload(b"%PDF-1.7 definitely not a picture"))
    assert "avatar" in refused.value.message_dict
    assert not Persona.objects.for_workspace(brand_a.workspace).exists()


def test_a_truncated_image_is_refused(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), upload(image_bytes(200, 200)[:120]))
    assert "avatar" in refused.value.message_dict


def test_an_avatar_over_two_megabytes_is_refused(brand_a):
    noise = Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert out.tell() > 2 * 1024 * 1024
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), upload(out.getvalue()))
    assert "2 MB" in refused.value.message_dict["avatar"][0]


def test_a_gif_is_refused_even_though_it_is_an_image(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), upload(image_bytes(fmt="GIF"), name="a.gif", content_type="image/gif"))
    assert "GIF" in refused.value.message_dict["avatar"][0]


@pytest.mark.parametrize("fmt, extension", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_jpg_png_and_webp_are_stored_under_the_workspace_with_a_generated_name(brand_a, fmt, extension):
    persona = save(brand_a, persona_input(), upload(image_bytes(fmt=fmt), name="../../evil.exe"))
    assert persona.avatar.name.startswith(f"avatars/{brand_a.workspace.pk}/")
    assert persona.avatar.name.endswith(f".{extension}")
    assert "evil" not in persona.avatar.name
    assert (persona.avatar_width, persona.avatar_height) == (96, 96)


def test_a_consultant_without_a_field_of_expertise_is_refused(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(archetype=Archetype.CONSULTANT), upload())
    assert set(refused.value.message_dict) == {"expertise"}


def test_a_consultant_with_a_field_of_expertise_is_saved(brand_a):
    persona = save(brand_a, persona_input(archetype=Archetype.CONSULTANT, expertise="护肤"), upload())
    assert (persona.archetype, persona.expertise) == (Archetype.CONSULTANT, "护肤")


def test_two_personas_of_a_brand_cannot_share_a_name(brand_a, brand_b):
    make_persona(brand_a)
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(), upload())
    assert "name" in refused.value.message_dict
    assert make_persona(brand_b).name == "小完子"  # another brand may use it


def test_editing_keeps_the_avatar_when_no_new_one_is_uploaded(brand_a):
    persona = make_persona(brand_a)
    edited = save(brand_a, persona_input(slogan="每天都要美美哒"), None, persona.pk)
    assert edited.avatar.name == persona.avatar.name and edited.slogan == "每天都要美美哒"


def test_a_replaced_avatar_file_is_deleted(brand_a, django_capture_on_commit_callbacks):
    persona = make_persona(brand_a)
    old = persona.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        edited = save(brand_a, persona_input(), upload(image_bytes(fmt="JPEG")), persona.pk)
    assert edited.avatar.name != old
    assert not edited.avatar.storage.exists(old)
    assert edited.avatar.storage.exists(edited.avatar.name)


def test_catchphrases_and_interests_are_trimmed_and_deduplicated(brand_a):
    persona = make_persona(brand_a, catchphrases=[" 宝子们看过来～ ", "", "宝子们看过来～", "亲测好用！"],
                           interests=["美妆", "美妆 ", "旅行"])
    assert persona.catchphrases == ["宝子们看过来～", "亲测好用！"]
    assert persona.interests == ["美妆", "旅行"]


def test_an_overlong_interest_tag_is_explained(brand_a):
    with pytest.raises(ValidationError) as refused:
        save(brand_a, persona_input(interests=["x" * 31]), upload())
    assert set(refused.value.message_dict) == {"interests"}
