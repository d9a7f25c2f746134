"""The templates' fields: what the clerk's form gets, what the booking prefills, what is refused."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from documents.render import render
from documents.templates import TEMPLATES, prefill, template_infos, validate
from tests.documents.samples import BOOKING, FACTS, FIELDS
from vibue.core.errors import Invalid, NotFound
from vibue.core.i18n import catalog
from vibue.seed import CONCERNS
from vibue.web.middleware import error_body

IDS = ["meldebestaetigung", "meldebescheinigung", "fuehrungszeugnis_empfang", "bewohnerparkausweis", "familienpass"]


def refused(template_id: str, **changes: str) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        validate(template_id, {**FIELDS[template_id], **changes})
    assert caught.value.code == "validation_failed" and caught.value.status == 422
    return caught.value.fields


def test_the_five_templates_in_the_pickers_order() -> None:
    infos = template_infos()
    assert [info.id for info in infos] == IDS
    slugs = {concern[0] for concern in CONCERNS}
    for info in infos:
        assert info.title_de and info.title_en
        assert info.concerns and set(info.concerns) <= slugs
        assert all(field.label_de and field.label_en and field.max_length > 0 for field in info.fields)
        assert {field.kind for field in info.fields} <= {"text", "multiline", "date"}
        assert any(field.required for field in info.fields)


def test_prefill_takes_the_booking() -> None:
    assert prefill("meldebestaetigung", BOOKING) == {
        **{spec.name: "" for spec in TEMPLATES["meldebestaetigung"].fields},
        "name": "Özlem Großmann",
        "reference": "VB-7K2M-QX",
    }
    received = prefill("fuehrungszeugnis_empfang", BOOKING)
    # 23:15 UTC on 4 December is the 5th in Heidelberg.
    assert received["application_date"] == "05.12.2026"
    assert received["contact"] == "oezlem@example.org, +49 170 1234567"
    parking = prefill("bewohnerparkausweis", BOOKING)
    assert (parking["valid_from"], parking["valid_until"]) == ("05.12.2026", "04.12.2027")
    assert prefill("bewohnerparkausweis", BOOKING, zone="UTC")["valid_from"] == "04.12.2026"


@pytest.mark.parametrize("template_id", IDS)
def test_prefilled_fields_are_valid_once_the_rest_is_filled(template_id: str) -> None:
    filled = {name: value for name, value in prefill(template_id, BOOKING).items() if value}
    values = validate(template_id, {**FIELDS[template_id], **filled})
    assert values["name"] == "Özlem Großmann"
    assert set(values) == {spec.name for spec in TEMPLATES[template_id].fields}


def test_dates_are_read_in_german_and_iso_form_and_printed_in_german() -> None:
    values = validate("meldebestaetigung", {**FIELDS["meldebestaetigung"], "birth_date": "1.2.1980"})
    assert (values["birth_date"], values["move_in_date"]) == ("01.02.1980", "30.11.2026")
    assert validate("meldebestaetigung", values) == values  # normalised values validate to themselves


def test_text_is_normalised() -> None:
    values = validate(
        "meldebescheinigung",
        {
            **FIELDS["meldebescheinigung"],
            "name": "  Grose\u0301,\u00a0 Jo\r\nhn\t ",  # decomposed é, NBSP, a pasted line break
            "address": "Hauptstraße 1  \r\n\r\n69117   Heidelberg\n",
        },
    )
    assert values["name"] == "Gros\u00e9, Jo hn"  # one precomposed é (NFC)
    assert values["address"] == "Hauptstraße 1\n\n69117 Heidelberg"
    assert values["purpose"] == ""


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ""}, {"name": "field.missing"}),
        ({"name": "   "}, {"name": "field.missing"}),
        ({"name": "x" * 121}, {"name": "field.string_too_long"}),
        ({"address": "\n".join(["Zeile"] * 6)}, {"address": "field.too_many_lines"}),
        ({"birth_date": "1980-13-01"}, {"birth_date": "field.date_format"}),
        ({"birth_date": "31.02.1980"}, {"birth_date": "field.date_format"}),
        ({"birth_date": "1.2.80"}, {"birth_date": "field.date_format"}),
        ({"birth_date": "01.02.1850"}, {"birth_date": "field.date_range"}),
        ({"name": "Groß\x07mann"}, {"name": "field.control_character"}),
        ({"name": "Groß\x00mann"}, {"name": "field.control_character"}),
        ({"name": "\u202enamssorG"}, {"name": "field.control_character"}),  # right-to-left override
        ({"name": "Groß\u200bmann"}, {"name": "field.control_character"}),  # zero width space
        ({"name": "Groß\ud800mann"}, {"name": "field.control_character"}),  # a lone surrogate
        ({"address": "Hauptstraße 1\u202869117"}, {"address": "field.control_character"}),
        ({"name": "Großmann 🦄"}, {"name": "field.unprintable"}),  # DejaVu has 😀, not 🦄
        ({"name": "高橋"}, {"name": "field.unprintable"}),
        ({"name": "שלום"}, {"name": "field.unprintable"}),  # right to left: would print reversed
        ({"color": "blau"}, {"color": "field.extra_forbidden"}),
        ({"name": "", "birth_date": "gestern"}, {"name": "field.missing", "birth_date": "field.date_format"}),
    ],
)
def test_each_wrong_field_gets_its_message(changes: dict[str, str], expected: dict[str, str]) -> None:
    assert refused("meldebescheinigung", **changes) == expected


def test_a_value_that_is_no_text_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        validate("meldebescheinigung", {**FIELDS["meldebescheinigung"], "name": 5})
    assert caught.value.fields == {"name": "field.string_type"}


def test_a_permit_cannot_end_before_it_starts() -> None:
    assert refused("bewohnerparkausweis", valid_until="04.12.2026") == {"valid_until": "field.date_order"}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_error_shape_carries_the_field_messages(lang: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate("meldebescheinigung", {**FIELDS["meldebescheinigung"], "name": "", "birth_date": "32.01.1980"})
    request = make_mocked_request("POST", "/api/x", headers={"Accept-Language": lang})
    body = error_body(request, caught.value.code, caught.value.fields, caught.value.params)
    messages = catalog(lang)
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["fields"] == {"name": messages["field.missing"], "birth_date": messages["field.date_format"]}


def test_an_unknown_template_is_not_found() -> None:
    for call in (
        lambda: validate("reisepass", {}),
        lambda: prefill("reisepass", BOOKING),
        lambda: render("reisepass", {}, FACTS),
    ):
        with pytest.raises(NotFound) as caught:
            call()
        assert (caught.value.code, caught.value.status) == ("template_not_found", 404)


def test_render_validates_again() -> None:
    with pytest.raises(Invalid) as caught:
        render("familienpass", {**FIELDS["familienpass"], "children": "Ümit\u2066"}, FACTS)
    assert caught.value.fields == {"children": "field.control_character"}
