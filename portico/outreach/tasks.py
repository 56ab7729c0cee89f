from django_tasks import task

from portico.outreach import services


@task()
def bulk_invite_process(run_id: int) -> str:
    """Invite the charts of a bulk invite run, batch by batch. Idempotent: a second run of
    this task (after a crash, or side by side) carries on from the run's committed cursor."""
    return services.bulk_invite_process(run_id)
