"""The signed-in person's open invitations, for the home page: `{% load invitations %}{% my_invitations %}`."""

from __future__ import annotations

from django import template

from stakeholders.selectors import invitation_list_for_invitee

register = template.Library()


@register.inclusion_tag("stakeholders/_my_invitations.html", takes_context=True)
def my_invitations(context: template.Context) -> dict:
    request = context["request"]
    return {
        "invitations": list(invitation_list_for_invitee(user=request.user)),
        "csrf_token": context.get("csrf_token"),
    }
