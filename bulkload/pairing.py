"""Which answered record is which sent item, where an API's answer lists the records a call created in no promised
order but each record says what it holds: by what they hold, never by their place in the answer."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence


def pair(sent: Sequence[Hashable], answered: Sequence[Iterable[Hashable]]) -> list[int] | None:
    """For each sent item (by its key: what it holds), the index of the answered record that is it, each record
    taken once; a record is any of the keys it lists (several where an item's key depends on which fields the item
    sent). Records of one key are interchangeable: the first free is taken, so an answer in request order pairs in
    request order. None when there is no such pairing of every item and every record (a record no item's, an item
    no record's, more of one key than sent): which row each record is, and whether every row was stored, cannot be
    told. Linear where keys sort the records into classes; augmenting paths (Kuhn) where one record has several."""
    if len(sent) != len(answered):
        return None
    holders: dict[Hashable, list[int]] = {}
    for j, keys in enumerate(answered):
        for key in keys:
            holders.setdefault(key, []).append(j)
    owner = [-1] * len(answered)  # answered index -> the sent item paired with it
    order = [-1] * len(sent)
    first_free: dict[Hashable, int] = {}  # per key: holders before this place are paired (pairing never frees one)

    def augment(i: int, seen: set[int]) -> bool:
        for j in holders.get(sent[i], ()):
            if j in seen:
                continue
            seen.add(j)
            if owner[j] < 0 or augment(owner[j], seen):
                owner[j], order[i] = i, j
                return True
        return False

    for i, key in enumerate(sent):
        found = holders.get(key, [])
        at = first_free.get(key, 0)
        while at < len(found) and owner[found[at]] >= 0:
            at += 1
        first_free[key] = at
        if at < len(found):
            owner[found[at]], order[i] = i, found[at]
        elif not augment(i, set()):
            return None
    return order
