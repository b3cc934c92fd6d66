"""The AWX definitions under awx/ against the collection they drive: every survey question is a
documented role variable of a type AWX can deliver, secrets come from the credential type, the
job templates run the collection's own playbooks, and the execution environment gets the Python
libraries the modules import."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ansible_collections.owui.realtime.plugins.module_utils import target_requirements

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"


class _Loader(yaml.SafeLoader):
    """Reads Ansible's ``!unsafe`` strings as plain strings."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path: Path):
    return yaml.load(path.read_text(), Loader=_Loader)


CONTROLLER = load(AWX / "controller.yml")
CREDENTIAL_TYPE = CONTROLLER["owui_awx_credential_type"]
JOB_TEMPLATES = CONTROLLER["owui_awx_job_templates"]


def _role_options() -> dict[str, dict]:
    """Every documented role variable, from the roles' meta/argument_specs.yml."""
    options: dict[str, dict] = {}
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry in yaml.safe_load(path.read_text())["argument_specs"].values():
            options.update(entry.get("options", {}))
    return options


OPTIONS = _role_options()

# What each AWX survey type hands the playbook, and the argument_spec types that accept it.
# multiplechoice answers are strings, so a bool is only safe where the roles apply `| bool`
# (see test_boolean_questions_reach_only_bool_filtered_uses).
COMPATIBLE = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "path", "raw"},
    "password": {"str", "raw"},
    "integer": {"int", "raw"},
    "float": {"float", "raw"},
    "multiplechoice": {"str", "bool", "raw"},
    "multiselect": {"list"},
}
PYTHON_TYPES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": float}
SECRET_NAME = re.compile(r"password|secret|(^|_)key$")

QUESTIONS = [
    pytest.param(template, question, id=f"{template['playbook']}-{question['variable']}")
    for template in JOB_TEMPLATES
    for question in template["survey_spec"]["spec"]
]


def _answers(question: dict) -> list:
    """The values a survey can send for this question: its default and every choice."""
    answers = list(question.get("choices", []))
    if "default" in question:
        answers.append(question["default"])
    return answers


def test_role_options_are_found():
    assert {"open_webui_port", "valkey_image", "valkey_admin_password"} <= OPTIONS.keys()


@pytest.mark.parametrize(("template", "question"), QUESTIONS)
def test_survey_question_is_a_documented_role_variable_of_a_compatible_type(template, question):
    variable = question["variable"]
    assert variable in OPTIONS, (
        f"{template['name']}: survey variable {variable} is not documented in any role's meta/argument_specs.yml")
    spec = OPTIONS[variable]
    kind = spec.get("type", "str")
    assert question["type"] in COMPATIBLE, f"{variable}: {question['type']} is not an AWX survey type"
    assert kind in COMPATIBLE[question["type"]], (
        f"{variable}: a {question['type']} question cannot give the {kind} the role expects")
    assert {"question_name", "variable", "type", "required"} <= question.keys(), question

    # Every answer the survey can send passes the role's own argument validation.
    bare = {k: v for k, v in spec.items() if k not in {"default", "required", "description"}}
    for answer in _answers(question):
        result = ArgumentSpecValidator({variable: bare}).validate(
            {variable: answer}, validate_role_argument_spec=True)
        assert not result.error_messages, f"{variable}: survey answer {answer!r}: {result.error_messages}"

    if question["type"] == "multiplechoice":
        assert question.get("default", question["choices"][0]) in question["choices"], question
        if kind == "bool":
            assert sorted(question["choices"]) == ["false", "true"], question
        elif "choices" in spec:
            assert set(question["choices"]) <= set(spec["choices"]), (
                f"{variable}: survey offers {question['choices']}, the role accepts {spec['choices']}")
    if question["type"] == "integer":
        assert question["min"] <= question["default"] <= question["max"], question


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["playbook"])
def test_a_survey_asks_each_variable_once(template):
    variables = [q["variable"] for q in template["survey_spec"]["spec"]]
    assert len(variables) == len(set(variables)), variables
    assert template["survey_enabled"] is True


def _uses_without_bool_filter(variable: str) -> list[str]:
    """Places in the roles and playbooks that read ``variable`` other than through ``| bool``."""
    found = []
    files = [p for p in sorted(ROOT.glob("roles/*/**/*")) if p.is_file() and p.parts[-2] not in {"defaults", "meta"}]
    files += sorted(ROOT.glob("playbooks/*.yml"))
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for match in re.finditer(rf"\b{variable}\b", line):
                rest = line[match.end():]
                if re.match(r"\s*:", rest):  # the variable being set, as in a role's vars:
                    continue
                if not re.match(r"\s*\|\s*bool\b", rest):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize(("template", "question"), [
    p for p in QUESTIONS if OPTIONS.get(p.values[1]["variable"], {}).get("type") == "bool"])
def test_boolean_questions_reach_only_bool_filtered_uses(template, question):
    # A survey sends "true" or "false" as a string: ansible-core 2.19 refuses a string in `when:`,
    # and an inline `if` takes "false" as true. Only `| bool` reads it right.
    uses = _uses_without_bool_filter(question["variable"])
    assert not uses, (
        f"{question['variable']} comes from a survey as a string, but is read without | bool at:\n" + "\n".join(uses))


def test_the_bool_filter_check_finds_bare_uses():
    # The positive control: valkey_tls_enabled is read bare in `when:`, so a survey must not ask it.
    assert _uses_without_bool_filter("valkey_tls_enabled")


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["playbook"])
def test_job_template_extra_vars_are_documented_role_variables_of_their_type(template):
    for variable, value in template.get("extra_vars", {}).items():
        assert variable in OPTIONS, f"{template['name']}: extra variable {variable} is not a documented role variable"
        kind = OPTIONS[variable].get("type", "str")
        assert isinstance(value, PYTHON_TYPES[kind]), f"{variable}: {value!r} is not a {kind}"
        assert not SECRET_NAME.search(variable), f"{variable} is a secret: it belongs in the credential, not extra_vars"


def test_secret_names_are_recognised():
    secrets = {name for name in OPTIONS if SECRET_NAME.search(name)}
    assert {"valkey_admin_password", "valkey_open_webui_password", "open_webui_secret_key", "valkey_tls_key"} <= secrets
    assert "valkey_key_prefix" not in secrets


@pytest.mark.parametrize(("template", "question"), QUESTIONS)
def test_a_secret_is_never_asked_in_clear(template, question):
    if SECRET_NAME.search(question["variable"]):
        assert question["type"] == "password", f"{question['variable']} is a secret: ask it as a password"


def _injected() -> dict[str, str]:
    """Extra variable -> the credential type's input field it is rendered from."""
    injected = {}
    for variable, template in CREDENTIAL_TYPE["injectors"]["extra_vars"].items():
        match = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", template)
        assert match, f"injector for {variable} is not a single field: {template!r}"
        injected[variable] = match.group(1)
    return injected


def test_injected_variables_are_documented_role_variables_from_existing_fields():
    fields = {field["id"]: field for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    for variable, field_id in _injected().items():
        assert variable in OPTIONS, f"the credential injects {variable}, which no role documents"
        assert field_id in fields, f"the injector for {variable} names no input field {field_id}"
        assert OPTIONS[variable].get("type", "str") == "str" and fields[field_id]["type"] == "string"
        if SECRET_NAME.search(variable):
            assert fields[field_id].get("secret") is True, f"input {field_id} carries a secret: mark it secret"


def test_secrets_the_roles_would_generate_come_from_the_credential():
    # A job's container is thrown away: a secret generated on the controller would change every run.
    generated = {n for n, spec in OPTIONS.items() if str(spec.get("default", "")).startswith("generated")}
    assert generated == {"valkey_admin_password", "valkey_open_webui_password", "postgres_password",
                         "open_webui_secret_key"}
    injected = _injected()
    fields = {field["id"]: field for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    asked = {q["variable"]: q for t in JOB_TEMPLATES for q in t["survey_spec"]["spec"]}
    for variable in sorted(generated):
        if variable in injected:
            field = injected[variable]
            assert fields[field].get("secret") is True, f"{field} must be marked secret"
            assert field in CREDENTIAL_TYPE["inputs"]["required"], f"{field} must be required"
        else:
            assert asked.get(variable, {}).get("type") == "password", (
                f"{variable} is neither injected by the credential nor asked as a required password")
            assert asked[variable]["required"] is True


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=lambda t: t["playbook"])
def test_job_template_runs_a_playbook_of_this_collection(template):
    path = AWX / "project" / template["playbook"]
    assert path.is_file(), f"{template['name']}: no {path.relative_to(ROOT)} in the project"
    plays = yaml.safe_load(path.read_text())
    assert len(plays) == 1 and set(plays[0]) <= {"name", "ansible.builtin.import_playbook"}, plays
    fqcn = plays[0]["ansible.builtin.import_playbook"]
    namespace, name, playbook = fqcn.split(".")
    assert (namespace, name) == ("owui", "realtime"), fqcn
    assert (ROOT / "playbooks" / f"{playbook}.yml").is_file(), f"{fqcn} is not a playbook of this collection"


def test_project_installs_this_collection():
    wanted = load(AWX / "project" / "collections" / "requirements.yml")["collections"]
    assert "owui.realtime" in [c["name"] for c in wanted]


def _awx_module_options(module: str) -> set[str] | None:
    for entry in sys.path:
        path = Path(entry) / "ansible_collections" / "awx" / "awx" / "plugins" / "modules" / f"{module}.py"
        if path.is_file():
            for node in ast.parse(path.read_text()).body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
                    return set(yaml.safe_load(node.value.value)["options"])
    return None


@pytest.mark.parametrize(("module", "definitions"), [
    ("job_template", JOB_TEMPLATES), ("credential_type", [CREDENTIAL_TYPE])])
def test_definitions_use_only_options_of_the_awx_modules(module, definitions):
    options = _awx_module_options(module)
    if options is None:
        pytest.skip("the awx.awx collection is not installed next to ansible")
    for definition in definitions:
        unknown = set(definition) - options
        assert not unknown, f"awx.awx.{module} has no option {sorted(unknown)}"


def _third_party_imports() -> dict[str, str]:
    """Top-level modules that plugins/ imports from outside the standard library and Ansible."""
    found = {}
    for path in sorted(ROOT.glob("plugins/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"__future__", "ansible", "ansible_collections"}:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _requirements() -> dict[str, Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    parsed = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    return {canonicalize_name(r.name): r for r in parsed}


def test_execution_environment_metadata_points_at_files_that_exist():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 1
    for kind, name in meta["dependencies"].items():
        assert kind in {"python", "system"}, kind
        assert (ROOT / name).is_file(), f"meta/execution-environment.yml names {name}, which does not exist"
    assert meta["dependencies"]["python"] == "requirements.txt"


def test_requirements_cover_every_library_the_plugins_import():
    distributions = packages_distributions()
    wanted = _requirements()
    for module, where in _third_party_imports().items():
        names = {canonicalize_name(d) for d in distributions.get(module, [module])}
        assert names & wanted.keys(), f"{where} imports {module} ({', '.join(sorted(names))}), missing from requirements.txt"
    # community.docker's API client, which the modules use, imports requests.
    assert "requests" in wanted
    for requirement in wanted.values():
        assert any(s.operator == ">=" for s in requirement.specifier), f"{requirement} has no version floor"


def test_requirements_floors_are_the_ones_targets_are_checked_for():
    # docker_engine checks the target's Python against target_requirements; the EE gets requirements.txt.
    # Both must name the same libraries with the same floors.
    checked = {canonicalize_name(lib.name): lib.minimum for lib in (*target_requirements.LIBRARIES, *target_requirements.OPTIONAL)}
    declared = {name: next(s.version for s in r.specifier if s.operator == ">=") for name, r in _requirements().items()}
    assert declared == checked


def test_example_execution_environment_has_ansible_core_and_the_collections():
    ee = yaml.safe_load((AWX / "execution-environment.yml").read_text())
    assert ee["version"] == 3
    assert ee["dependencies"]["ansible_core"]["package_pip"].startswith("ansible-core")
    names = {c["name"] for c in ee["dependencies"]["galaxy"]["collections"]}
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert {f"{galaxy['namespace']}.{galaxy['name']}", *galaxy["dependencies"]} <= names
