from django_tasks import task

from siyu.core.schedule import register_job


@task()
def tick() -> str:
    return "tick"


register_job("throwaway.tick", "*/5 * * * *", tick)
