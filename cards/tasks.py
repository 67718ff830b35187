"""Background tasks, run by the task worker (`manage.py db_worker`, django-tasks' database
backend; settings.TASKS). The bodies live in services; a task only names them."""

from django_tasks import task

from cards.services import imports


@task()
def run_import_job(job_id: int) -> None:
    imports.run_job(job_id)
