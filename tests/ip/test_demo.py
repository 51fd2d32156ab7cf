from PIL import Image

from siyu.demo import ensure_demo_brand
from siyu.ip import services
from siyu.ip.models import Archetype, BrandPortrait, Generation, MatrixLevel, Persona


def test_the_demo_brand_comes_with_xiaowanzi_and_a_self_portrait_once(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    demo = ensure_demo_brand()
    ensure_demo_brand()
    [persona] = Persona.objects.for_workspace(demo.workspace)
    assert persona.name == "小完子"
    assert (persona.archetype, persona.generation, persona.gender) == (Archetype.PERFECT_USER, Generation.BORN_95S, "female")
    assert persona.company_role == "品牌体验官" and persona.value_offered == "分享真实好用的美妆护肤心得和专属福利"
    assert persona.level == MatrixLevel.MAIN and persona.catchphrases and persona.interests and persona.slogan
    with persona.avatar.open("rb") as f, Image.open(f) as image:
        assert image.format == "PNG" and image.size == (256, 256)
    assert services.persona_completeness(persona).score == 100
    portrait = BrandPortrait.objects.for_workspace(demo.workspace).get()
    assert services.portrait_completeness(portrait).score == 100
