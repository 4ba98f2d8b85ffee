from components.notifications import graphql, models
from components.notifications.service import DELIVER_JOB, NotificationsService
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    registrar.table(models.Consent)
    registrar.table(models.Delivery)


@hookimpl
def dougong_services(registrar):
    registrar.service("notifications", NotificationsService(registrar.kernel, registrar.settings))


@hookimpl
def dougong_event_handlers(registrar):
    # Observers: the events' declared payloads are the contract, so any loaded component's
    # event may be mapped without notifications depending on it; an event nobody declares
    # (a typo in the blueprint) stops the boot naming the closest declared one.
    service = registrar.kernel.service("notifications")
    for event in service.by_event:
        registrar.observe(event, service.on_event)


@hookimpl
def dougong_jobs(registrar):
    registrar.job(DELIVER_JOB, registrar.kernel.service("notifications").deliver)


@hookimpl
def dougong_schema(registrar):
    registrar.query(graphql.Query)
    registrar.mutation(graphql.Mutation)
    registrar.node(graphql.Notification, graphql.load_notifications)


@hookimpl
def dougong_error_codes(registrar):
    registrar.error_code("NOTIFICATIONS_UNKNOWN_TEMPLATE", "No notification rule of this brand uses that template.")
    registrar.error_code("NOTIFICATIONS_TOO_MANY_TEMPLATES", "Grant one to three templates at once, as WeChat asks for them.")
