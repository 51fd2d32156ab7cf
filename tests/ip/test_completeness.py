import pytest

from siyu.ip import services
from siyu.ip.models import AgeBand, BrandPortrait, SocialApp, SpendingPower, Zodiac
from tests.conftest import seat
from tests.ip.conftest import make_persona


def test_a_persona_with_only_the_six_required_dimensions_scores_fifty(brand_a):
    completeness = services.persona_completeness(make_persona(brand_a))
    assert completeness.score == 50
    assert completeness.filled == 6 and completeness.total == 12
    assert len(completeness.missing) == 6


@pytest.mark.parametrize("dimension", [
    {"slogan": "精致不贵"}, {"social_identity": "美妆博主"}, {"tone": "亲切"}, {"catchphrases": ["宝子们～"]},
    {"interests": ["旅行"]}, {"zodiac": Zodiac.GEMINI}, {"story": "大学时爱上彩妆"},
])
def test_each_optional_dimension_raises_the_score_by_one_twelfth(brand_a, dimension):
    assert services.persona_completeness(make_persona(brand_a, **dimension)).score == 58


def test_tone_and_catchphrases_together_count_as_one_personality_dimension(brand_a):
    persona = make_persona(brand_a, tone="亲切", catchphrases=["宝子们～"])
    assert services.persona_completeness(persona).score == 58


def test_a_persona_with_all_twelve_dimensions_scores_one_hundred(brand_a):
    persona = make_persona(brand_a, slogan="精致不贵", social_identity="美妆博主", tone="亲切",
                           interests=["旅行"], zodiac=Zodiac.LEO, story="故事")
    completeness = services.persona_completeness(persona)
    assert completeness.score == 100 and completeness.missing == []


def test_an_empty_self_portrait_scores_zero(brand_a):
    portrait = services.portrait_of(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace))
    assert portrait.pk is None
    assert services.portrait_completeness(portrait).score == 0


def test_a_half_answered_section_does_not_count(brand_a):
    portrait = BrandPortrait(workspace=brand_a.workspace, female_share=80, age_bands=[AgeBand.FROM_18])
    assert services.portrait_completeness(portrait).score == 0


def test_self_portrait_completeness_is_the_share_of_sections_answered(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    portrait = services.save_portrait(brand_a.workspace, planner, services.PortraitInput(
        female_share=85, age_bands=[AgeBand.FROM_18], occupations=["白领"], regions=["一线城市"],
        social_apps=[SocialApp.XIAOHONGSHU, SocialApp.ZHIHU], future_positioning="精致年轻女孩必备美妆",
    ))
    completeness = services.portrait_completeness(portrait)
    assert (completeness.filled, completeness.total, completeness.score) == (3, 9, 33)


def test_a_fully_answered_self_portrait_scores_one_hundred(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    portrait = services.save_portrait(brand_a.workspace, planner, services.PortraitInput(
        female_share=85, age_bands=[AgeBand.FROM_18], occupations=["白领"], regions=["一线城市"],
        spending_power=SpendingPower.MEDIUM, spending_preferences="高性价比", competitors="大牌平价线",
        differentiation="更懂年轻女孩", social_apps=[SocialApp.WEIBO], shopping_platforms=["taobao"],
        interest_tags=["美妆"], staff_impressions="年轻", ideal_endorser="某女演员",
        future_positioning="精致年轻女孩必备美妆", reviews="颜色超正\n包装好看",
    ))
    assert services.portrait_completeness(portrait).score == 100
    assert services.review_count(portrait) == 2


def test_the_self_portrait_is_one_per_brand_and_updated_in_place(brand_a):
    planner = seat(brand_a.members["planner"], brand_a.workspace)
    first = services.save_portrait(brand_a.workspace, planner, services.PortraitInput(ideal_endorser="A"))
    second = services.save_portrait(brand_a.workspace, planner, services.PortraitInput(ideal_endorser="B"))
    assert first.pk == second.pk
    assert BrandPortrait.objects.for_workspace(brand_a.workspace).get().ideal_endorser == "B"


def test_unknown_social_apps_and_out_of_range_shares_are_refused(brand_a):
    from django.core.exceptions import ValidationError

    planner = seat(brand_a.members["planner"], brand_a.workspace)
    with pytest.raises(ValidationError) as refused:
        services.save_portrait(brand_a.workspace, planner, services.PortraitInput(
            female_share=120, social_apps=["myspace"]))
    assert set(refused.value.message_dict) == {"female_share", "social_apps"}
