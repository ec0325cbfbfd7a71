"""The account a run writes into (an e-conomic agreement, a HaloPSA tenant, a PayorCRM account, a Visma Core
company), kept in its ledger from before its first call, so that every later command on the run (resume,
reconcile, rollback, `bulkload run --resume`, a worker's retry) is refused before its first call when its
credentials are for another one: one address serves every e-conomic agreement, and a rollback deletes by the
entry numbers the run was given, which the other agreement's drafts carry too.

The ledger keeps a fingerprint, never a credential: HMAC-SHA256, under a random salt made for that ledger and kept
in it, of the target, the API address and the credentials that name the account (`Credentials.account_names`:
e-conomic's grant token, HaloPSA's client id, PayorCRM's api_key; none of Visma Core's: its bearer token changes at
every refresh, for the same company, which no answer names), cut to 128 bits. A credential that rotates (an OAuth
access token) never names the account: a run stopped would be refused once it changed, with no way on. A plain
hash of a token could be matched against another ledger's, or against the hashes of a list of tokens; this one
only by whoever holds the ledger, one guess at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from . import loads
from .agreement_calls import keyed
from .errors import OtherAccount
from .job import Job
from .ledger import Ledger
from .targets.base import Target

log = logging.getLogger(__name__)

#: the salt's bytes, and the fingerprint's (of SHA-256's 32)
SALT_BYTES = 16
FINGERPRINT_BYTES = 16


def fingerprint(salt: bytes, job: Job, target: Target, credentials: Mapping[str, str]) -> str:
    """The account of `credentials` for `job`'s target at its address, as hex (2 × FINGERPRINT_BYTES digits)."""
    values = [credentials.get(k, "") for k in target.credentials.account_names]
    named = "\0".join([target.name, job.api_address, *values])
    return hmac.new(salt, named.encode(), hashlib.sha256).hexdigest()[: 2 * FINGERPRINT_BYTES]


def anywhere(job: Job, target: Target, credentials: Mapping[str, str]) -> str:
    """The account of `credentials` at the job's address under any host name, as the record of loads keeps it
    (loads.py): one server reached under two spellings of its host (`http://127.0.0.1:P` one day,
    `http://localhost:P` the next) with the same credentials may be one account, which no look at the addresses
    alone can tell (none is resolved). A keyed hash under the user's key (agreement_calls.keyed), 32 hex digits, of
    the target, the address but its host (`unhosted`) and the values that say whose account it is
    (Credentials.holder_of); "" where the cache cannot be made."""
    return keyed([target.name, unhosted(job.api_address), *target.credentials.holder_of(credentials)]) or ""


def unhosted(address: str) -> str:
    """An API's address (job.address's text) but its host, which two spellings of one server's address share: its
    scheme, port and path (`http://h:1/journalsapi/v11.0.2`: `http://*:1/journalsapi/v11.0.2`). Another port is
    another server (two sandboxes on one machine). An address that cannot be read is itself."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        return address
    return f"{parts.scheme}://*:{port or ''}{parts.path}" if parts.hostname else address


def kept_for(kept: Mapping[str, str], job: Job, target: Target, credentials: Mapping[str, str]) -> bool:
    """Whether `credentials` are for the account whose fingerprint a ledger keeps (`kept`: Ledger.account), at the
    job's address. ValueError for a fingerprint that is not one (a salt not in hex)."""
    return hmac.compare_digest(fingerprint(bytes.fromhex(kept["salt"]), job, target, credentials), kept["fingerprint"])


def other_than_kept(ledger: Ledger, job: Job, target: Target, credentials: Mapping[str, str]) -> bool:
    """Whether the ledger keeps a fingerprint of its run's account and `credentials` are not for it."""
    kept = ledger.account
    return kept is not None and not kept_for(kept, job, target, credentials)


def switched(ledger: Ledger, job: Job, target: Target, credentials: Mapping[str, str]) -> bool:
    """Whether `credentials` are for another account than the one the ledger keeps for its run (False where it keeps
    none). A run that created nothing (it stopped on refused credentials, say) may go on with them, as a resume may
    move it to another address: the caller forgets what it read with the first ones (runner.resume). Raises
    OtherAccount, naming the variables and never a value, when it created records (or may have)."""
    if not other_than_kept(ledger, job, target, credentials):
        return False
    if not ledger.created_nothing():
        where = ledger.path.absolute() if isinstance(ledger.path, Path) else ledger.path
        names = target.credentials.account_names
        raise OtherAccount(str(where), target.credentials.account_noun, names, target.credentials.shared_address)
    return True


def renew(ledger: Ledger, job: Job, target: Target, credentials: Mapping[str, str]) -> None:
    """On the user's word (resume --same-account) that `credentials` are the run's account's, its key renewed since
    where only the key names the account at its address (Credentials.shared_address: PayorCRM's api_key, whose old
    value is revoked): the ledger keeps their fingerprint from now on, so the run goes on with them, as do its
    later commands, and no longer with the old ones."""
    if not other_than_kept(ledger, job, target, credentials):
        return
    log.warning(
        "the run of %s goes on with other credentials (%s) than its first ones, on your word that they are its "
        "%s's, renewed since (--same-account): its ledger keeps them from now on",
        ledger.path,
        ", ".join(target.credentials.account_names),
        target.credentials.account_noun,
    )
    salt = secrets.token_bytes(SALT_BYTES)
    ledger.set_account({"salt": salt.hex(), "fingerprint": fingerprint(salt, job, target, credentials)})
    loads.renewed(ledger.run.key_prefix, anywhere(job, target, credentials))  # and the record of loads, its loads


def hold(ledger: Ledger, job: Job, target: Target, credentials: Mapping[str, str]) -> None:
    """Before a command's first call: refuse credentials for another account than the run's (`switched`), or keep
    theirs in a ledger that keeps none (a new run's; one made by an earlier bulkload, with a warning that they could
    not be checked) or whose run created nothing and goes on with them. Raises OtherAccount."""
    noun = target.credentials.account_noun
    if switched(ledger, job, target, credentials):
        log.warning(
            "the run of %s created nothing, and these credentials are for another %s than its first ones: it goes "
            "on with them",
            ledger.path,
            noun,
        )
    elif ledger.account is not None:
        return
    elif not ledger.created_nothing() and target.credentials.account_names:  # none names the account: nothing to check
        log.warning(
            "the ledger %s was made by an earlier bulkload, which kept no fingerprint of the %s its run wrote into: "
            "these credentials (%s) cannot be checked against it; they are kept as the run's from now on",
            ledger.path,
            noun,
            ", ".join(target.credentials.account_names),
        )
    salt = secrets.token_bytes(SALT_BYTES)
    ledger.set_account({"salt": salt.hex(), "fingerprint": fingerprint(salt, job, target, credentials)})
