from django.db import models


class SearchQueue(models.Model):
    """Documents to (re)index. Database triggers on the registry's tables write here in the
    same transaction as the change — bulk imports and raw writes included — so the index never
    misses one; the worker (and each search, when little is waiting) drains it."""

    kind = models.CharField(max_length=1)  # r(esident) p(lace) o(rganization)
    # No index beyond the key: the queue is read oldest first and deleted by key, and every
    # row a bulk import writes would pay for one more.
    ref_id = models.BigIntegerField()

    def __str__(self):
        return f"{self.kind}{self.ref_id}"
