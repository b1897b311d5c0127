"""`rasa data validate`, strict: any error or warning fails, with one understood exception.

Rasa warns that a response is "not used in any story or rule" when only a custom
action sends it (our apologies, offers, handoff replies) or when a form asks with it
(utter_ask_<slot>, a known false positive), or Rasa's own default action sends it
(utter_default, by action_default_fallback). Such a warning is accepted only if the
response really is sent: named in actions/*.py (literally, or by an f-string prefix
such as f"utter_apology_{level}"), an utter_ask_ for a slot of a form, or one of
Rasa's own. Anything else,
including a response that nothing sends, fails the check.
"""

from pathlib import Path
import re
import subprocess
import sys

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Intents that only arrive as payloads from the hub, never typed: no NLU examples.
PAYLOAD_ONLY_INTENTS = {"agent_handback", "cancel_handoff"}
# Responses that Rasa's default actions send (the core fallback's utter_default).
SENT_BY_RASA = {"utter_default"}
NO_EXAMPLES = re.compile(
    r"UserWarning: The intent '(\w+)' is listed in the domain file, but is not found in the NLU training data"
)
UNUSED = re.compile(r"UserWarning: The utterance '(\w+)' is not used in any story or rule\.")
WARNING = re.compile(r"UserWarning: (.*)")


def sent_by_actions() -> tuple:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "actions").glob("*.py"))
    literal = set(re.findall(r"[\"'](utter_\w+)[\"']", source))
    prefixes = set(re.findall(r"f[\"'](utter_\w*?)\{", source))
    return literal, prefixes


def asked_by_forms() -> set:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {
        f"utter_ask_{slot}"
        for form in (domain.get("forms") or {}).values()
        for slot in form.get("required_slots", [])
    }


def main() -> int:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    literal, prefixes = sent_by_actions()
    asked = asked_by_forms()
    problems = []
    for line in output.splitlines():
        unused = UNUSED.search(line)
        if unused:
            name = unused.group(1)
            sent = name in literal or name in asked or name in SENT_BY_RASA
            if sent or any(name.startswith(p) for p in prefixes):
                continue
            problems.append(f"response {name} is never sent by a story, rule, form or action")
            continue
        no_examples = NO_EXAMPLES.search(line)
        if no_examples and no_examples.group(1) in PAYLOAD_ONLY_INTENTS:
            continue
        warning = WARNING.search(line)
        if warning and "rasa/shared/utils/io.py" in line:
            problems.append(warning.group(1))
    if result.returncode != 0:
        problems.append(f"rasa data validate exited with {result.returncode}")
        print(output[-4000:], file=sys.stderr)
    for problem in problems:
        print(f"validate: {problem}", file=sys.stderr)
    if not problems:
        print("validate: domain, NLU data, stories and rules are clean")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
