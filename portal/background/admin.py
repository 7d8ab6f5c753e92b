"""Tasks in admin (database backend): support sees every task; a company's staff see the tasks
of their company (those enqueued with its `tenant_id`), read-only. Failed ones first in mind:
the list filters by status, and a failed task shows its error."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django_tasks import TaskResultStatus

from portal.accounts.admin_site import VIEW_ONLY, AccessRuleMixin, is_support_admin
from portal.background.models import DailyJobRun, TaskRecord, WorkerHeartbeat
from portal.formats import datetime_br

# Task arguments never shown in admin (the signing code travels as one).
SECRET_ARGUMENTS = frozenset({"code"})


@admin.register(TaskRecord)
class TaskAdmin(AccessRuleMixin, admin.ModelAdmin):
    staff_actions = VIEW_ONLY
    support_actions = frozenset({"view", "change"})  # change: the "run again" action
    list_display = ["task", "status_display", "enqueued", "finished", "attempts", "error"]
    list_filter = ["status"]
    ordering = ["-enqueued_at"]
    actions = ["run_again"]
    fields = [
        "task",
        "status_display",
        "arguments",
        "enqueued",
        "started",
        "finished",
        "attempts",
        "error",
        "details",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        tasks = super().get_queryset(request)
        if is_support_admin(request):
            return tasks
        # Tenant staff: only what was enqueued for their company.
        return tasks.filter(args_kwargs__kwargs__tenant_id=request.tenant.pk)

    def get_fields(self, request, obj=None):
        # The traceback names code and data of the whole portal: support only.
        return self.fields if is_support_admin(request) else self.fields[:-1]

    def get_actions(self, request):
        return super().get_actions(request) if is_support_admin(request) else {}

    @admin.display(description="tarefa", ordering="task_path")
    def task(self, result):
        return result.task_path.rsplit(".", 1)[-1]

    @admin.display(description="situação", ordering="status")
    def status_display(self, result):
        label = TaskResultStatus(result.status).label
        if result.status == TaskResultStatus.FAILED:
            return format_html('<strong style="color:#b91c1c">{}</strong>', label)
        return label

    @admin.display(description="argumentos")
    def arguments(self, result):
        kwargs = {
            key: "••••••" if key in SECRET_ARGUMENTS else value
            for key, value in result.args_kwargs.get("kwargs", {}).items()
        }
        return json.dumps(kwargs, ensure_ascii=False)

    @admin.display(description="enfileirada em", ordering="enqueued_at")
    def enqueued(self, result):
        return datetime_br(result.enqueued_at)

    @admin.display(description="iniciada em")
    def started(self, result):
        return datetime_br(result.started_at) if result.started_at else "—"

    @admin.display(description="terminada em", ordering="finished_at")
    def finished(self, result):
        return datetime_br(result.finished_at) if result.finished_at else "—"

    @admin.display(description="execuções")
    def attempts(self, result):
        return len(result.worker_ids)

    @admin.display(description="erro")
    def error(self, result):
        if result.status != TaskResultStatus.FAILED:
            return ""
        last_line = result.traceback.strip().splitlines()[-1:] or [result.exception_class_path]
        return last_line[0][:300]

    @admin.display(description="detalhes (traceback)")
    def details(self, result):
        return format_html("<pre>{}</pre>", result.traceback) if result.traceback else "—"

    @admin.action(description="Executar novamente as tarefas com falha selecionadas")
    def run_again(self, request, queryset):
        count = queryset.filter(status=TaskResultStatus.FAILED).update(
            status=TaskResultStatus.READY, exception_class_path="", traceback=""
        )
        messages.success(request, f"{count} tarefa(s) de volta à fila.")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(AccessRuleMixin, admin.ModelAdmin):
    staff_actions = frozenset()
    support_actions = VIEW_ONLY
    list_display = ["worker_id", "hostname", "pid", "started_at", "seen_at"]


@admin.register(DailyJobRun)
class DailyJobRunAdmin(AccessRuleMixin, admin.ModelAdmin):
    staff_actions = frozenset()
    support_actions = VIEW_ONLY
    list_display = ["job", "day", "enqueued_at", "worker_id"]
    ordering = ["-day", "job"]
