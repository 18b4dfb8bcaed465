from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from stakeholders.models import Organization, PlanMembership, User


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
