"""Kith through Python's gql client, with client-side schema validation.

Every client here either fetches Kith's schema by introspection (`fetch_schema_from_transport`)
or is handed the schema one of them fetched, so gql validates each document against Kith's
schema before it is sent. Each check prints PASS or FAIL; the last line is
`client: N passed, M failed`. tests/client/run.sh starts the server and sets:

  KITH_URL          the GraphQL endpoint (http://127.0.0.1:PORT/graphql)
  KITH_ADMIN_TOKEN  an ADMIN bearer token
  KITH              the kith binary (for `kith token`, with JWT_SECRET in the environment)
  KITH_CLIENT_SKIP_APQ=1  report the APQ check as skipped (a binary without APQ)
"""

import hashlib
import json
import os
import subprocess
import sys
import traceback
import uuid

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLError, print_ast

URL = os.environ["KITH_URL"]
ADMIN_TOKEN = os.environ["KITH_ADMIN_TOKEN"]
KITH = os.environ["KITH"]
SKIP_APQ = os.environ.get("KITH_CLIENT_SKIP_APQ") == "1"


# --- transports -------------------------------------------------------------------------


class CountingTransport(RequestsHTTPTransport):
    """gql's requests transport, counting the HTTP requests it sends (so a check can show
    that a document gql refused never reached the server)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = 0

    def _prepare_request(self, request, **kwargs):
        self.sent += 1
        return super()._prepare_request(request, **kwargs)


def persisted_query_not_found(errors):
    return any(
        (e.get("extensions") or {}).get("code") == "PERSISTED_QUERY_NOT_FOUND"
        or e.get("message") == "PersistedQueryNotFound"
        for e in errors or []
    )


class PersistedQueryTransport(CountingTransport):
    """Apollo's automatic persisted queries on gql's requests transport, as Apollo Client's
    PersistedQueryLink does it: every request carries
    `extensions.persistedQuery = {version: 1, sha256Hash}` where the hash is the SHA-256 of the
    exact query text gql sends (gql prints the parsed document with `print_ast`; the hash is
    taken over that printed text, in `_prepare_request`, right before it would go out). The
    first try leaves the query out; on PERSISTED_QUERY_NOT_FOUND the transport sends query and
    hash together, which registers the document (`retry=False` stops after the first try).
    `get=True` sends queries as GET with `query`, `variables`, `operationName` and `extensions`
    in the URL, JSON-encoded as GraphQL over HTTP says.

    gql (>= 4) carries `GraphQLRequest.extensions` into the request body itself; this class
    only adds the hash, drops the query on the first try, and moves the body into the URL
    for GET. `log` records each HTTP exchange: (method, query sent?, hash, error code)."""

    def __init__(self, *args, retry=True, get=False, **kwargs):
        super().__init__(*args, method="GET" if get else "POST", **kwargs)
        self.retry = retry
        self.get = get
        self.send_query = False
        self.last_hash = None
        self.log = []

    def _prepare_request(self, request, **kwargs):
        post_args = super()._prepare_request(request, **kwargs)
        payload = post_args.pop("json")
        query = payload["query"]
        self.last_hash = hashlib.sha256(query.encode("utf-8")).hexdigest()
        extensions = dict(payload.get("extensions") or {})
        extensions["persistedQuery"] = {"version": 1, "sha256Hash": self.last_hash}
        payload["extensions"] = extensions
        if not self.send_query:
            del payload["query"]
        if self.get:
            post_args["params"] = {
                key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
                for key, value in payload.items()
            }
        else:
            post_args["json"] = payload
        return post_args

    def _exchange(self, request, **kwargs):
        result = super().execute(request, **kwargs)
        code = None
        if result.errors:
            code = ((result.errors[0] or {}).get("extensions") or {}).get("code")
        self.log.append((self.method, self.send_query, self.last_hash, code))
        return result

    def execute(self, request, **kwargs):
        self.send_query = False
        result = self._exchange(request, **kwargs)
        if self.retry and persisted_query_not_found(result.errors):
            self.send_query = True
            try:
                result = self._exchange(request, **kwargs)
            finally:
                self.send_query = False
        return result


def transport(token, cls=CountingTransport, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return cls(url=URL, headers=headers, timeout=30, **kwargs)


def connect(token, schema=None, cls=CountingTransport, **kwargs):
    """A gql sync session; with no schema given, it fetches Kith's by introspection."""
    if schema is None:
        client = Client(transport=transport(token, cls, **kwargs), fetch_schema_from_transport=True)
    else:
        client = Client(transport=transport(token, cls, **kwargs), schema=schema)
    session = client.connect_sync()
    assert client.schema is not None, "gql has no schema: validation would be off"
    return client, session


def run(session, document, **variables):
    return session.execute(GraphQLRequest(document, variable_values=variables or None))


def error_code(exc):
    assert isinstance(exc, TransportQueryError), f"expected TransportQueryError, got {exc!r}"
    codes = [(e.get("extensions") or {}).get("code") for e in exc.errors or []]
    return codes[0] if codes else None


def expect_query_error(session, document, **variables):
    try:
        data = run(session, document, **variables)
    except TransportQueryError as exc:
        return exc
    raise AssertionError(f"expected a GraphQL error, got data {data!r}")


def mint_token(*args):
    out = subprocess.run([KITH, "token", *args, "--ttl", "1h"], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# --- checks -------------------------------------------------------------------------------

results = []


def check(name):
    def wrap(fn):
        def runner():
            try:
                note = fn()
            except Exception as exc:  # noqa: BLE001 - every failure is reported, then counted
                results.append(False)
                print(f"FAIL {name}: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=4, file=sys.stdout)
                return
            if note == "SKIP":
                print(f"SKIP {name}")
                return
            results.append(True)
            print(f"PASS {name}" + (f" ({note})" if note else ""))

        runner.check_name = name
        return runner

    return wrap


admin_client, admin = connect(ADMIN_TOKEN)
SCHEMA = admin_client.schema
state = {}


@check("1. schema by introspection; gql refuses an invalid document itself")
def schema_and_validation():
    fields = SCHEMA.query_type.fields
    for name in ("customer", "customers", "contacts", "account", "accounts", "me"):
        assert name in fields, f"Query.{name} missing from the fetched schema"
    assert SCHEMA.mutation_type is not None and "createContact" in SCHEMA.mutation_type.fields
    sent = admin_client.transport.sent
    try:
        run(admin, "query { customers { items { id noSuchField } } }")
    except TransportQueryError as exc:
        raise AssertionError(f"the server saw the invalid document: {exc}") from exc
    except GraphQLError as exc:
        assert "noSuchField" in exc.message, exc.message
    else:
        raise AssertionError("an unknown field was not rejected")
    # A wrong argument type is refused too, before any HTTP request.
    try:
        run(admin, "query($n: String) { customers(page: {pageSize: $n}) { totalCount } }", n="7")
    except GraphQLError as exc:
        assert not isinstance(exc, TransportQueryError)
    else:
        raise AssertionError("a String variable in an Int position was not rejected")
    assert admin_client.transport.sent == sent, "a refused document was sent anyway"
    me = run(admin, "{ me { subject roles } }")["me"]
    assert me["roles"] == ["ADMIN"], me
    return f"{len(fields)} Query fields; GraphQLError raised locally, 0 requests sent"


CUSTOMERS_PAGE = """
query CustomersPage($page: PageInput) {
  customers(page: $page) {
    pagination { pageNumber pageSize excludeTotalCount }
    totalCount
    hasNextPage
    items { id name accounts { id } contacts { id } }
  }
}
"""

CUSTOMER_NESTED = """
query CustomerNested($id: ID!) {
  customer(id: $id) {
    id
    name
    version
    accounts {
      id
      name
      customerId
      contacts {
        id
        accountId
        displayName
        contactPoints { id kind formatted isPrimary }
        addresses { id line1 city postalCode isPrimary }
      }
    }
    contacts {
      id
      customerId
      isShared
      displayName
      contactPoints { id kind value formatted }
      addresses { id addressType line1 city state postalCode }
      primaryAddress { id }
    }
  }
  contacts(filter: {customerId: $id}, page: {pageSize: 100}) { totalCount items { id } }
}
"""


@check("2. ADMIN pages through customers (pageSize 7) and reads one nested, with variables")
def customers_paging():
    seen, number, total, pages = [], 1, None, 0
    while True:
        page = run(admin, CUSTOMERS_PAGE, page={"pageNumber": number, "pageSize": 7})["customers"]
        pages += 1
        assert page["pagination"] == {"pageNumber": number, "pageSize": 7, "excludeTotalCount": False}
        total = page["totalCount"] if total is None else total
        assert page["totalCount"] == total, "totalCount changed between pages"
        assert len(page["items"]) <= 7
        seen.extend(page["items"])
        if not page["hasNextPage"]:
            break
        assert len(page["items"]) == 7, "a page before the last is short"
        number += 1
        assert number <= 100, "hasNextPage never turned false"
    ids = [c["id"] for c in seen]
    assert len(ids) == total, f"{len(ids)} customers paged, totalCount {total}"
    assert len(set(ids)) == len(ids), "a customer came twice"
    assert total == 30, f"seeded 30 customers, totalCount {total}"
    state["customer_ids"] = ids

    # The first customer with an account and a contact, read nested in one document.
    rich = next(c for c in seen if c["accounts"] and c["contacts"])
    data = run(admin, CUSTOMER_NESTED, id=rich["id"])
    customer = data["customer"]
    assert customer["id"] == rich["id"]
    assert [a["id"] for a in customer["accounts"]] == [a["id"] for a in rich["accounts"]]
    for account in customer["accounts"]:
        assert account["customerId"] == rich["id"]
        for contact in account["contacts"]:
            assert contact["accountId"] == account["id"]
    reached = {c["id"] for c in customer["contacts"]}
    reached |= {c["id"] for a in customer["accounts"] for c in a["contacts"]}
    listed = {c["id"] for c in data["contacts"]["items"]}
    assert reached == listed, "nested contacts differ from contacts(filter: {customerId})"
    assert data["contacts"]["totalCount"] == len(listed)
    points = sum(len(c["contactPoints"]) for c in customer["contacts"])
    state["rich_customer"] = rich["id"]
    return (
        f"{total} customers in {pages} pages; customer with {len(customer['accounts'])} accounts, "
        f"{len(reached)} contacts, {points} direct contact points"
    )


CONTACTS_PAGE = """
query ContactsPage($page: PageInput, $orderBy: [ContactOrder!]) {
  contacts(page: $page, orderBy: $orderBy) { totalCount hasNextPage items { id } }
}
"""

CONTACTS_CONNECTION = """
query ContactsConnection($first: Int, $after: String, $orderBy: [ContactOrder!]) {
  contactsConnection(first: $first, after: $after, orderBy: $orderBy) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}
"""

BY_NAME = [{"field": "NAME"}, {"field": "CREATED_AT", "direction": "DESC"}]


def cursor_loop(session, order_by):
    """Every contact the caller sees, by a Relay cursor loop over `contactsConnection`."""
    ids, total, rounds, after = [], None, 0, None
    while True:
        conn = run(session, CONTACTS_CONNECTION, first=25, after=after, orderBy=order_by)[
            "contactsConnection"
        ]
        rounds += 1
        total = conn["totalCount"] if total is None else total
        assert conn["totalCount"] == total, "totalCount changed between pages"
        ids.extend(edge["node"]["id"] for edge in conn["edges"])
        if not conn["pageInfo"]["hasNextPage"]:
            return ids, total, rounds
        assert conn["pageInfo"]["endCursor"] == conn["edges"][-1]["cursor"]
        after = conn["pageInfo"]["endCursor"]
        assert rounds < 1000, "hasNextPage never turned false"


def page_loop(session, order_by):
    """Every contact the caller sees, by the page loop over `contacts`."""
    ids, number = [], 1
    while True:
        page = run(session, CONTACTS_PAGE, page={"pageNumber": number, "pageSize": 25},
                   orderBy=order_by)["contacts"]
        ids.extend(item["id"] for item in page["items"])
        if not page["hasNextPage"]:
            return ids
        number += 1
        assert number < 1000, "hasNextPage never turned false"


@check("3. a cursor loop over every contact, in two orders")
def all_contacts():
    assert "contactsConnection" in SCHEMA.query_type.fields, "no contactsConnection in the schema"
    details = []
    for label, order_by in [("oldest first", None), ("by name", BY_NAME)]:
        ids, total, rounds = cursor_loop(admin, order_by)
        assert len(set(ids)) == len(ids), f"{len(ids) - len(set(ids))} contacts came twice"
        assert len(ids) == total, f"{len(ids)} contacts read, totalCount {total}"
        assert total > 25, f"the seed should give more than one page of contacts, got {total}"
        # The cursor loop reads the list in the order the paged list has.
        assert ids == page_loop(admin, order_by), f"{label}: the cursor and page loops differ"
        details.append(f"{label}: {rounds} requests")
    return f"{total} contacts, none twice, in the paged list's order ({'; '.join(details)})"


@check("4. a CUSTOMER token sees only its own customer")
def customer_scope():
    own, other = state["customer_ids"][0], state["customer_ids"][1]
    token = mint_token("--role", "CUSTOMER", "--customer", own)
    client, session = connect(token)  # this client introspects with the CUSTOMER token
    try:
        page = run(session, CUSTOMERS_PAGE, page={"pageSize": 50})["customers"]
        assert [c["id"] for c in page["items"]] == [own], page["items"]
        assert page["totalCount"] == 1 and page["hasNextPage"] is False
        data = run(session, "query($a: ID!, $b: ID!) { a: customer(id: $a) { id } b: customer(id: $b) { id } }", a=own, b=other)
        assert data["a"] == {"id": own}, data
        assert data["b"] is None, f"customer(id: <other>) = {data['b']}"
        me = run(session, "{ me { roles customers } }")["me"]
        assert me == {"roles": ["CUSTOMER"], "customers": [own]}, me
        ids, total, _ = cursor_loop(session, BY_NAME)
        listed = run(admin, "query($id: ID!) { contacts(filter: {customerId: $id}) { totalCount } }", id=own)
        assert total == len(ids) == listed["contacts"]["totalCount"], (total, len(ids), listed)
    finally:
        session.close()
    state["customer_token"] = token
    return f"1 customer of 30 visible, the other is null, {total} contacts in scope"


CREATE_CONTACT = """
mutation Create($input: CreateContactInput!) {
  createContact(input: $input) {
    contact {
      id version subtype role firstName lastName displayName customerId isShared
      contactPoints { kind value }
      primaryAddress { line1 city postalCode }
    }
    userErrors { field message code }
  }
}
"""

UPDATE_CONTACT = """
mutation Update($id: ID!, $input: UpdateContactInput!, $expectedVersion: Int) {
  updateContact(id: $id, input: $input, expectedVersion: $expectedVersion) {
    contact { id version position }
    userErrors { field message code }
  }
}
"""

DELETE_CONTACT = """
mutation Delete($id: ID!) {
  deleteContact(id: $id) { deletedId userErrors { field message code } }
}
"""


@check("5. createContact, updateContact with expectedVersion, a stale version, deleteContact")
def mutations():
    own = state["customer_ids"][0]
    client, session = connect(state["customer_token"], schema=SCHEMA)
    try:
        created = run(
            session,
            CREATE_CONTACT,
            input={
                "customerId": own,
                "subtype": "PERSON",
                "firstName": "Ada",
                "lastName": f"Client-{uuid.uuid4().hex[:8]}",
                "emailAddress": "ada@example.com",
                "contactPoints": [{"kind": "EMAIL", "value": "ada@example.com"}],
                "primaryAddress": {"line1": "1 Main St", "city": "Springfield", "state": "IL", "postalCode": "62701"},
            },
        )["createContact"]
        assert created["userErrors"] == [], created["userErrors"]
        contact = created["contact"]
        assert contact["customerId"] == own and contact["subtype"] == "PERSON" and contact["role"] == "OTHER"
        assert contact["isShared"] is False
        assert contact["contactPoints"] == [{"kind": "EMAIL", "value": "ada@example.com"}]
        assert contact["primaryAddress"]["city"] == "Springfield"
        cid, v1 = contact["id"], contact["version"]

        updated = run(session, UPDATE_CONTACT, id=cid, input={"position": "Engineer"}, expectedVersion=v1)["updateContact"]
        assert updated["userErrors"] == [], updated["userErrors"]
        assert updated["contact"]["position"] == "Engineer"
        v2 = updated["contact"]["version"]
        assert v2 > v1, (v1, v2)

        # A stale version is a user error in the payload, not a GraphQL error: no exception.
        stale = run(session, UPDATE_CONTACT, id=cid, input={"position": "Lost update"}, expectedVersion=v1)["updateContact"]
        assert stale["contact"] is None, stale
        assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"], stale["userErrors"]
        after = run(session, "query($id: ID!) { contact(id: $id) { version position } }", id=cid)["contact"]
        assert after == {"version": v2, "position": "Engineer"}, after

        deleted = run(session, DELETE_CONTACT, id=cid)["deleteContact"]
        assert deleted == {"deletedId": cid, "userErrors": []}, deleted
        gone = run(session, "query($id: ID!) { contact(id: $id) { id } }", id=cid)["contact"]
        assert gone is None, gone
    finally:
        session.close()
    return f"version {v1} -> {v2}, stale expectedVersion {v1} -> CONFLICT user error, deleted"


@check("6. errors come back as gql exceptions carrying extensions.code")
def errors():
    exc = expect_query_error(admin, CUSTOMERS_PAGE, page={"pageSize": 1000})
    assert error_code(exc) == "BAD_USER_INPUT", exc.errors

    # No token, and a forged one: the schema the ADMIN client fetched still validates.
    for token in (None, "not-a-jwt"):
        client, session = connect(token, schema=SCHEMA)
        try:
            exc = expect_query_error(session, "{ me { subject } }")
            assert error_code(exc) == "UNAUTHENTICATED", exc.errors
            exc = expect_query_error(session, CUSTOMERS_PAGE)
            assert error_code(exc) == "UNAUTHENTICATED", exc.errors
        finally:
            session.close()

    # A CUSTOMER may not create customers at all.
    client, session = connect(state["customer_token"], schema=SCHEMA)
    try:
        exc = expect_query_error(
            session,
            "mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { customer { id } } }",
            **{"in": {"name": "Not mine"}},
        )
        assert error_code(exc) == "FORBIDDEN", exc.errors
    finally:
        session.close()
    return "BAD_USER_INPUT, UNAUTHENTICATED (no token, bad token), FORBIDDEN"


APQ_QUERY = """
query ApqCustomers($page: PageInput) {
  customers(page: $page) { totalCount items { id name } }
}
"""


@check("7. automatic persisted queries (APQ) through gql")
def apq():
    if SKIP_APQ:
        return "SKIP"
    variables = {"page": {"pageSize": 3}}
    expected = run(admin, APQ_QUERY, **variables)
    # A document this server cannot have seen: the alias carries a fresh name.
    alias = f"apq_{uuid.uuid4().hex[:12]}"
    document = APQ_QUERY.replace("customers(page", f"{alias}: customers(page")
    want = {alias: expected["customers"]}

    # Hash alone, no retry: an unknown document is PERSISTED_QUERY_NOT_FOUND.
    client, session = connect(ADMIN_TOKEN, schema=SCHEMA, cls=PersistedQueryTransport, retry=False)
    try:
        exc = expect_query_error(session, document, **variables)
        assert error_code(exc) == "PERSISTED_QUERY_NOT_FOUND", exc.errors
        assert exc.errors[0]["message"] == "PersistedQueryNotFound", exc.errors
        assert client.transport.log == [("POST", False, client.transport.last_hash, "PERSISTED_QUERY_NOT_FOUND")]
        # The hash is over the exact text gql sends: the printed document.
        printed = print_ast(GraphQLRequest(document).document)
        assert client.transport.last_hash == hashlib.sha256(printed.encode()).hexdigest()
        digest = client.transport.last_hash
    finally:
        session.close()

    # The link: hash alone, then NOT_FOUND, then query and hash, which registers it.
    client, session = connect(ADMIN_TOKEN, schema=SCHEMA, cls=PersistedQueryTransport)
    try:
        assert run(session, document, **variables) == want
        assert client.transport.log == [
            ("POST", False, digest, "PERSISTED_QUERY_NOT_FOUND"),
            ("POST", True, digest, None),
        ], client.transport.log
        # Now the hash alone is enough.
        client.transport.log.clear()
        assert run(session, document, **variables) == want
        assert client.transport.log == [("POST", False, digest, None)], client.transport.log
    finally:
        session.close()

    # Over GET too: the registered document by its hash alone, in the URL.
    client, session = connect(ADMIN_TOKEN, schema=SCHEMA, cls=PersistedQueryTransport, get=True)
    try:
        assert run(session, document, **variables) == want
        assert client.transport.log == [("GET", False, digest, None)], client.transport.log
        # ...and a new document registered over GET (query and hash in the URL).
        other = document.replace(alias, alias + "_get")
        got = run(session, other, **variables)
        assert got == {alias + "_get": expected["customers"]}, got
        assert [(m, q, c) for m, q, _, c in client.transport.log[1:]] == [
            ("GET", False, "PERSISTED_QUERY_NOT_FOUND"),
            ("GET", True, None),
        ], client.transport.log
    finally:
        session.close()
    return f"sha256 {digest[:12]}...: NOT_FOUND, registered, hash-only POST and GET"


CHECKS = [schema_and_validation, customers_paging, all_contacts, customer_scope, mutations, errors, apq]

if __name__ == "__main__":
    for c in CHECKS:
        c()
    admin.close()
    passed = sum(results)
    failed = len(results) - passed
    skipped = len(CHECKS) - len(results)
    print(f"client: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    sys.exit(1 if failed else 0)
