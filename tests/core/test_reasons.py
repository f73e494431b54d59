"""Tests of cdv_geo.core.reasons: plain words for the reasons of missing values."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import cdv_geo.metrics
from cdv_geo.core.errors import CdvGeoError
from cdv_geo.core.reasons import (
    REASONS,
    UNKNOWN_REASON,
    is_known_reason,
    missing_advice,
    reason_label,
    reason_parts,
)

METRICS_DIR = Path(cdv_geo.metrics.__file__).parent
# A value put in an f-string's placeholder: a facility kind, a distance, a column, a year.
SAMPLES = (
    "school",
    "500",
    "'population'",
    "residents",
    "value for 2019 and 2020",
    "not published",
    "2020",
)
_NAMES = re.compile(r"reason|why|said", re.IGNORECASE)
_SKIP_CALLS = {"warn", "warning", "Problem", "ValueError", "TypeError", "KeyError"}


def _templates(node: ast.AST) -> list[str]:
    """Return the string texts `node` can evaluate to, "{}" for an f-string's placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        return [text]
    if isinstance(node, ast.IfExp):
        return _templates(node.body) + _templates(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [t for v in node.values for t in _templates(v)]
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add):  # [text] * n
        return _templates(node.left) + _templates(node.right)
    if isinstance(node, ast.BinOp):  # "a (" + pct + " of b)": the pieces joined as one text
        left, right = _templates(node.left), _templates(node.right)
        return [a + b for a in left or ["{}"] for b in right or ["{}"]] if left or right else []
    if isinstance(node, (ast.Tuple, ast.List)):
        return [t for e in node.elts for t in _templates(e)]
    if isinstance(node, (ast.ListComp, ast.DictComp, ast.GeneratorExp)):
        return _templates(node.value if isinstance(node, ast.DictComp) else node.elt)
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func).rsplit(".", 1)[-1]
        if name in _SKIP_CALLS or name in {"get", "pop", "format", "map"}:
            return []
        inner = [t for a in node.args for t in _templates(a)]
        if isinstance(node.func, ast.Attribute):  # pd.Series("text", ...).where(...)
            inner += _templates(node.func.value)
        return inner
    if isinstance(node, ast.Attribute):
        return _templates(node.value)
    return []


def _reason_params(tree: ast.Module) -> dict[str, list[int]]:
    """Positions of the parameters named like a reason, by local function or class name."""
    out: dict[str, list[int]] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            pos = [i for i, a in enumerate(fn.args.args) if _NAMES.search(a.arg)]
            if pos:
                out[fn.name] = pos
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef):
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__" and fn.name in out:
                    # a class (or cls(...)) is called without self
                    shifted = [i - 1 for i in out[fn.name] if i > 0]
                    out[cls.name] = out["cls"] = shifted
    return out


def _function_texts(fn: ast.FunctionDef) -> list[str]:
    """Texts returned or appended by a function whose docstring says it tells why."""
    doc = ast.get_docstring(fn) or ""
    if not (_NAMES.search(fn.name) or re.search(r"\bwhy\b", doc)):
        return []
    found: list[str] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and node.value is not None:
            found += _templates(node.value)
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(".append"):
            found += _templates(node.args[0]) if node.args else []
    return found


def _module_reasons(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    params = _reason_params(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_NAMES.search(ast.unparse(t)) for t in targets):
                found += _templates(node.value)
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            name = func.rsplit(".", 1)[-1]
            if _NAMES.search(func):
                found += [t for a in node.args for t in _templates(a)]
            for i in params.get(name, []):
                found += _templates(node.args[i]) if i < len(node.args) else []
            found += [t for k in node.keywords if k.arg and _NAMES.search(k.arg)
                      for t in _templates(k.value)]  # fmt: skip
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "reason":
                    found += _templates(v)
        elif isinstance(node, ast.FunctionDef):
            found += _function_texts(node)
    # a reason is a phrase: column names ("reason") and joiners ("; ") are not
    return sorted({t for t in found if " " in t.strip() and t.strip() not in {"; ", ";"}})


def _collect() -> list[tuple[str, str]]:
    # the metrics write the reasons; the pipeline may add its own
    pipeline = METRICS_DIR.parent / "pipeline"
    paths = [*sorted(METRICS_DIR.glob("*.py")), *sorted(pipeline.glob("*.py"))]
    return [(p.name, text) for p in paths for text in _module_reasons(p)]


ALL_REASONS = _collect()


def test_collector_finds_the_reasons_it_must():
    # the collector itself, against texts read by hand in the metrics' sources
    texts = {t for _, t in ALL_REASONS}
    for expected in (
        "empty geometry",
        "no residence in this quartier",
        "no walking coverage of {}",
        "no baseline indicator known for this quartier",
        "origin farther than {} m from the street network",
    ):
        assert expected in texts
    assert len(texts) > 40


def _readable(template: str) -> bool:
    """Whether some choice of sample values in the placeholders makes a known reason."""
    pieces = template.split("{}")
    for values in itertools.product(SAMPLES, repeat=len(pieces) - 1):
        text = pieces[0] + "".join(v + p for v, p in zip(values, pieces[1:], strict=True))
        if is_known_reason(text):
            return True
    return False


@pytest.mark.parametrize(("module", "template"), ALL_REASONS)
def test_every_metric_reason_has_a_catalogue_entry(module, template):
    # "before: {}" / "{}: {}": lead-ins of another reason, tried with a known one
    if re.fullmatch(r"(?:\w+|\{\}): \{\}", template):
        text = template.replace("{}", "n_trees", 1) if template.startswith("{}") else template
        assert is_known_reason(text.replace("{}", "only nodata cells")), (module, template)
        return
    assert _readable(template), f"{module}: no catalogue entry reads {template!r}"


def test_catalogue_sentences_are_plain_and_bilingual():
    for entry in REASONS:
        for text in (entry.fr, entry.en):
            assert text and (text[0].isupper() or text[0].isdigit()), entry.pattern
            assert not re.search(r"\b[a-z]+_[a-z_]+\b|\w+=|\.py\b|\\", text), text
        assert entry.fr != entry.en
        # the placeholders of both sentences are groups of the pattern
        groups = set(re.compile(entry.pattern).groupindex)
        assert set(re.findall(r"\{(\w+)\}", entry.fr)) <= groups
        assert set(re.findall(r"\{(\w+)\}", entry.en)) <= groups


def test_reason_label_known_in_both_languages():
    assert reason_label("no residences layer").startswith("Fichier des logements absent")
    assert reason_label("no residences layer", lang="en").startswith("Residences file missing")
    assert reason_label("nothing demolished") == (
        "Aucune démolition : pas de taux de reconstitution."
    )


def test_reason_label_numbers_and_kinds():
    fr = reason_label("origin farther than 250 m from the street network")
    assert fr == "Logement à plus de 250 m de toute rue : vérifier le réseau de rues fourni."
    en = reason_label("no water_play_area on this detached part of the street network", "en")
    assert en == "No “Water play area” facility on this detached part of the street network."
    assert "12 % de sa surface" in reason_label("partly outside the raster (12% of its area)")


def test_reason_label_prefixes():
    assert reason_label("after: outside the raster", "en") == (
        "Later map: Area outside the map provided: provide a map that covers the whole territory."
    )
    # a column lead-in is dropped: the sentence says what is missing
    assert reason_label("n_trees: no tree plantings") == reason_label("no tree plantings")
    # a column before an unknown text does not make it known
    assert reason_label("n_trees: bad thing") == "donnée non disponible"


@pytest.mark.parametrize(
    "text",
    [
        None,
        np.nan,
        "",
        "KeyError: 'geometry'",
        "/home/user/data/residences.gpkg not found",
        "<img src=x onerror=alert(1)>",
        "no <img src=x onerror=alert(1)>",
        "no water_play_area within abc m of the street network",
    ],
)
def test_unknown_text_is_generic_never_raw(text):
    assert reason_label(text) == UNKNOWN_REASON[0] == "donnée non disponible"
    assert reason_label(text, lang="en") == UNKNOWN_REASON[1] == "not available"


def test_joined_reasons_give_distinct_sentences():
    text = "no value; nothing demolished; no value"
    assert reason_parts(text) == ["no value", "nothing demolished"]
    assert reason_label(text, "en") == (
        "No value in the data provided. Nothing demolished: no reconstitution ratio."
    )
    # two texts with the same sentence are said once
    assert reason_label("no residence in this quartier; no home in this quartier", "en") == (
        "No home in this area: check the residences file."
    )


def test_missing_advice_groups_and_puts_generic_last():
    got = missing_advice(
        ["oops", None, np.nan, "no value; no renewal balance", "no renewal balance", "bad"],
        lang="en",
    )
    assert got[0] == "No value in the data provided."
    assert got[1].startswith("Urban renewal balance missing")
    assert got[2:] == ["not available"]
    assert missing_advice([None, np.nan]) == []
    assert missing_advice(["no value"]) == ["Valeur absente des données fournies."]


def test_unknown_language_is_refused():
    with pytest.raises(CdvGeoError):
        reason_label("no value", lang="de")
