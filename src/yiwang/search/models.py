from django.db import models


class SearchQueue(models.Model):
    """Documents to (re)index. Database triggers on the registry's tables write here in the
    same transaction as the change — bulk imports and raw writes included — so the index never
    misses one; the worker (and each search, when little is waiting) drains it."""

    kind = models.CharField(max_length=1)  # r(esident) p(lace) o(rganization)
    ref_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["kind", "ref_id"], name="search_queue_ref_idx")]

    def __str__(self):
        return f"{self.kind}{self.ref_id}"
