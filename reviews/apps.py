from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Review desk")

    def ready(self):
        from reviews.queue_index import ensure_queue_index

        # The review queue's index on scoring's table, back after SQLite rebuilt the table (queue_index.py).
        post_migrate.connect(ensure_queue_index, sender=self, dispatch_uid="reviews-queue-index")
