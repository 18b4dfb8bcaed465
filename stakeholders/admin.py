from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from stakeholders.models import Invitation, Organization, PlanMembership, User


@admin.register(User)
class NaphsUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "acronym", "kind", "jurisdiction"]
    list_filter = ["kind"]
    search_fields = ["name", "acronym"]
    autocomplete_fields = ["jurisdiction"]


@admin.register(PlanMembership)
class PlanMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "plan", "role", "organization"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "plan__title"]
    autocomplete_fields = ["user", "plan", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations change only through their services, which audit and e-mail."""

    list_display = ["email", "plan", "role", "status", "sent_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "plan__title"]
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
