"""The load scenario's pieces: the mix, the form defaults a browser would submit, what counts as success."""

from bench import load


def test_the_mix_is_the_realistic_one_from_the_issue():
    assert dict(load.MIX) == {
        "case_list": 30,
        "case_page": 25,
        "api_cases": 10,
        "visit_post": 15,
        "payment_post": 10,
        "contact_post": 10,
    }


def test_form_defaults_are_what_a_browser_would_submit():
    html = """
    <form><input type="hidden" name="idempotency_key" value="k1">
    <input type="text" name="amount" value="12.50"><input type="checkbox" name="confirmed">
    <input type="radio" name="met" value="borrower"><input type="radio" name="met" value="spouse" checked>
    <select name="channel"><option value="">—</option><option value="bank" selected>Bank</option></select>
    <select name="outcome"><option value="other">Other</option><option value="moved">Moved</option></select>
    <textarea name="note">x</textarea><input type="submit" name="go" value="Save"></form>
    """
    assert load.form_defaults(html) == {
        "idempotency_key": "k1",
        "amount": "12.50",
        "met": "spouse",
        "channel": "bank",
        "outcome": "other",
        "note": "x",
    }


def test_a_post_succeeds_only_by_redirecting_and_a_page_only_with_200():
    assert load.expected("visit_post", 302) and not load.expected("visit_post", 200)
    assert load.expected("case_list", 200) and not load.expected("case_list", 302)


def test_p95_of_a_sample():
    assert load._p95([float(n) for n in range(1, 101)]) == 95.0
