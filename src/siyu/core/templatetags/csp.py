"""`{% csp_allows_eval %}`: this page's Content-Security-Policy allows 'unsafe-eval'.

For the pages whose Alpine components use inline expressions, which Alpine's standard build
compiles with `new Function` (see `siyu.core.middleware.ContentSecurityPolicyMiddleware`)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def csp_allows_eval(context: template.Context) -> str:
    request = context.get("request")
    if request is not None:
        request.csp_allows_eval = True
    return ""
