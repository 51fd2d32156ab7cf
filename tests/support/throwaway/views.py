from django.http import HttpResponse

from siyu.core.permissions import Action, require, role_of
from siyu.web import MemberRequest, member_page


@member_page
def home(request: MemberRequest) -> HttpResponse:
    require(role_of(request.membership), "throwaway", Action.VIEW)
    return HttpResponse(f"throwaway page of {request.workspace.slug}")
