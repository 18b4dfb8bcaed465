from django.contrib import admin

from naphs.models import AuditEvent, Job, Upload


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "plan", "requested_by", "status", "progress", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in Job._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "plan", "actor", "action", "target_repr"]
    list_filter = ["action", "target_type"]
    readonly_fields = [field.name for field in AuditEvent._meta.fields]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "filename", "size", "plan", "uploaded_by", "status", "problem_count"]
    list_filter = ["kind", "status"]
    readonly_fields = [field.name for field in Upload._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a record of what was uploaded: made by an import, never by hand

    def has_change_permission(self, request, obj=None) -> bool:
        return False
