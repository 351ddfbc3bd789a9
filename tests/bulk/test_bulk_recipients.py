"""Recipients from CSV, JSON lines or a list: every problem named by its line, before anything is sent."""

import pytest

from mg_tools.bulk.recipients import BadRecipients, Recipient, batches, parse_recipients, recipients_of


def test_csv_takes_an_address_or_email_column_and_the_other_columns_as_variables():
    got = parse_recipients(b"Email,name,plan\nann@example.com,Ann,pro\nbob@example.com,Bob,free\n", "list.csv")
    assert got == [
        Recipient("ann@example.com", {"name": "Ann", "plan": "pro"}),
        Recipient("bob@example.com", {"name": "Bob", "plan": "free"}),
    ]


def test_json_lines_keep_typed_variables():
    data = b'{"address": "ann@example.com", "n": 1}\n\n{"address": "bob@example.com", "vip": true}\n'
    assert parse_recipients(data, "list.jsonl") == [
        Recipient("ann@example.com", {"n": 1}),
        Recipient("bob@example.com", {"vip": True}),
    ]


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"", "a.csv", "a.csv: the file is empty"),
        (b"name\nAnn\n", "a.csv", "line 1: the header has no 'address' (or 'email') column"),
        (b"address\nann@example.com\nnot-an-address\n", "a.csv", "line 3: not an email address: 'not-an-address'"),
        (
            b"address\nann@example.com\nAnn@Example.com\n",
            "a.csv",
            "line 3: Ann@Example.com is already a recipient (line 2)",
        ),
        (b"address,name\nann@example.com\n", "a.csv", "line 2: 1 fields where the header has 2"),
        (b'{"address": "ann@example.com"}\n{oops\n', "a.jsonl", "line 2: not JSON"),
        (b'{"address": "ann@example.com"}\n["x"]\n', "a.jsonl", "line 2: must be an object"),
        (b"address\n\xff\n", "a.csv", "a.csv: not UTF-8 text"),
    ],
)
def test_bad_files_name_the_line(data, name, problem):
    with pytest.raises(BadRecipients, match="nothing was sent") as caught:
        parse_recipients(data, name)
    assert problem in str(caught.value)


def test_a_list_names_the_position_of_each_problem():
    with pytest.raises(BadRecipients) as caught:
        recipients_of([{"address": "a@example.com"}, {"address": "A@example.com"}, {"address": "a, b@x.com"}])
    assert caught.value.problems == [
        ("recipients[1]", "A@example.com is already a recipient (recipients[0])"),
        ("recipients[2]", "not an email address: 'a, b@x.com'"),
    ]


def test_batches_are_deterministic_and_at_most_1000():
    people = [Recipient(f"r{i}@example.com") for i in range(2500)]
    assert batches(people) == [(0, 1000), (1000, 2000), (2000, 2500)] == batches(list(people))
