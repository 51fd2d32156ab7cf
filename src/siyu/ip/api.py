"""品牌IP API: the brand's personas and its IP matrix, scoped to the caller's workspace."""

from __future__ import annotations

from django.urls import reverse
from ninja import Router, Schema

from siyu.ip import services
from siyu.ip.models import Persona
from siyu.web import MemberRequest

router = Router(tags=["ip"])


class CompletenessOut(Schema):
    score: int
    missing: list[str]


class PersonaOut(Schema):
    id: int
    name: str
    avatar_url: str | None
    gender: str
    company_role: str
    generation: str
    value_offered: str
    slogan: str
    social_identity: str
    tone: str
    catchphrases: list[str]
    interests: list[str]
    zodiac: str
    story: str
    archetype: str
    expertise: str
    level: str
    parent_id: int | None
    completeness: CompletenessOut


class MatrixAccountOut(Schema):
    """A staff account embodying the persona."""

    id: int
    userid: str
    name: str
    friend_count: int
    friend_limit: int


class MatrixNodeOut(Schema):
    id: int
    name: str
    level: str
    archetype: str
    completeness: int
    accounts: list[MatrixAccountOut]
    children: list[MatrixNodeOut]


MatrixNodeOut.model_rebuild()


def _persona_out(persona: Persona) -> PersonaOut:
    c = services.persona_completeness(persona)
    return PersonaOut(
        id=persona.pk, name=persona.name,
        avatar_url=reverse("ip:avatar", args=[persona.pk]) if persona.avatar else None,
        gender=persona.gender, company_role=persona.company_role, generation=persona.generation,
        value_offered=persona.value_offered, slogan=persona.slogan, social_identity=persona.social_identity,
        tone=persona.tone, catchphrases=persona.catchphrases, interests=persona.interests,
        zodiac=persona.zodiac, story=persona.story, archetype=persona.archetype, expertise=persona.expertise,
        level=persona.level, parent_id=persona.parent_id,
        completeness=CompletenessOut(score=c.score, missing=[str(m) for m in c.missing]),
    )


def _node_out(node: services.MatrixNode) -> MatrixNodeOut:
    p = node.persona
    accounts = [MatrixAccountOut(id=a.pk, userid=a.userid, name=a.name, friend_count=a.friend_count,
                                 friend_limit=a.friend_limit) for a in node.accounts]
    return MatrixNodeOut(id=p.pk, name=p.name, level=p.level, archetype=p.archetype,
                         completeness=node.completeness.score, accounts=accounts,
                         children=[_node_out(c) for c in node.children])


@router.get("/personas", response=list[PersonaOut])
def personas(request: MemberRequest) -> list[PersonaOut]:
    cards = services.list_personas(request.workspace, request.membership)
    return [_persona_out(card.persona) for card in cards]


@router.get("/personas/{persona_id}", response=PersonaOut)
def persona(request: MemberRequest, persona_id: int) -> PersonaOut:
    return _persona_out(services.get_persona(request.workspace, request.membership, persona_id))


@router.get("/matrix", response=list[MatrixNodeOut])
def matrix(request: MemberRequest) -> list[MatrixNodeOut]:
    """The IP matrix as a forest: the main brand IP first, each node with the personas under it
    and the staff accounts embodying it."""
    return [_node_out(n) for n in services.ip_matrix(request.workspace, request.membership)]
