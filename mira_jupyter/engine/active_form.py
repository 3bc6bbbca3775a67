"""Present-continuous forms of task descriptions: "Analyze code" -> "Analyzing code".

The first word is conjugated only when it is a known imperative verb (a table of the verbs
plans use, plus the -ize/-yze/-ify suffixes); the rest of the description is kept exactly as
written, case included. Anything else becomes "Working on: <description>", which is always
correct English, unlike a guess (the old code produced "Aing nalyze code").
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Imperative verbs seen at the start of plan steps. Phrasal verbs ("set up", "clean up")
# need only their first word here: the particle is kept as written.
VERBS = _words(
    """
    accept access add adjust align allow analyse analyze annotate append apply archive ask assert
    assess audit automate avoid back backfill benchmark bind block break bring build bump cache
    calculate call cap capture catch change check choose clarify classify clean clear clone close
    cluster collect combine comment commit compare compile complete compose compress compute
    confirm connect consider consolidate construct continue convert copy correct count create cut
    debug decide declare decode decompose decouple deduplicate define delete deploy deprecate derive
    describe design detect determine develop diagnose diff disable discover dispatch display
    document double download draft draw drop dump edit eliminate embed emit enable encode enforce
    ensure estimate evaluate examine execute expand explain explore export expose extend extract
    fetch fill filter finalise finalize find finish fit fix flag flatten fold follow format free
    gather generate get give go group guard handle hash highlight hook identify implement import
    improve impute include increase index infer inline insert inspect install instrument integrate
    interpolate introduce investigate isolate iterate join keep label launch let limit lint list
    load locate lock log look loop lower maintain make manage map mark match measure merge migrate
    mock modify monitor move name narrow normalise normalize note notify obtain open optimise
    optimize order organise organize outline output overwrite package pad parallelise parallelize
    parameterize parametrize parse pass patch pause persist pick pin pipe plan plot point poll port
    predict prepare preprocess present preserve prevent print prioritise prioritize probe process
    produce profile program propagate propose protect prototype provide prune publish pull push put
    query queue raise rank re-run read rebase rebuild recompute record recreate redesign reduce
    refactor refer refine reformat refresh regenerate register reimplement reindex release reload
    remove rename render reorder reorganise reorganize repair repeat replace replay report
    reproduce request require rerun research reset reshape resolve restart restore restructure
    resume retrain retry return reuse review revert revise rewrite rollback rotate round route run
    sample sanitise sanitize save scaffold scale scan schedule score scrape search secure seed
    select send separate serialise serialize serve set settle share shorten show shrink sign
    simplify skip slice sort specify split squash stage standardise standardize start stash stop
    store stream strip structure study submit subscribe suggest summarise summarize supply support
    swap switch sync tag take test tidy time tokenize toggle trace track train transform translate
    trim trigger troubleshoot truncate try tune turn type uncomment understand undo unify uninstall
    unpin unzip update upgrade upload use validate vectorise vectorize verify visualise visualize
    wait walk warn watch wire wrap write zip do see tie visit answer bisect figure ship step think work
    reach target prompt deal
    """
)
# Irregular spellings and compounds written as one word ("Setup the env").
EXCEPTIONS = {
    "be": "being",
    "quit": "quitting",
    "panic": "panicking",
    "mimic": "mimicking",
    "traffic": "trafficking",
    "picnic": "picnicking",
    "age": "ageing",
    "singe": "singeing",
    "setup": "setting up",
    "cleanup": "cleaning up",
    "backup": "backing up",
    "lookup": "looking up",
    "checkout": "checking out",
    "rollback": "rolling back",
    "shutdown": "shutting down",
    "login": "logging in",
    "signup": "signing up",
    "warmup": "warming up",
    "teardown": "tearing down",
}
# Words of more than one syllable stressed on the last one, which double their final
# consonant like one-syllable words do ("commit" -> "committing", but "edit" -> "editing").
DOUBLING = _words(
    """
    admit begin commit compel control debug emit equip expel forget format input occur omit output
    patrol permit prefer program propel rebut refer regret remap rerun reset submit transmit unpin
    unset unzip upset
    """
)
_HYPHEN_PREFIXES = _words("re pre un de co fine double cross auto over under bulk post")
_LEADING_FILLER = re.compile(
    r"^(?:first|then|next|finally|lastly|afterwards|also|now|and)\b,?\s+", re.I
)
_VOWELS = "aeiou"
_FIRST_WORD = re.compile(r"([A-Za-z][A-Za-z'-]*)(.*)", re.DOTALL)


def is_verb(word: str) -> bool:
    """Whether ``word`` is an imperative verb this module can conjugate."""
    lower = word.lower()
    if lower in VERBS or lower in EXCEPTIONS:
        return True
    if "-" in lower:
        head, _, tail = lower.rpartition("-")
        return head in _HYPHEN_PREFIXES and is_verb(tail)
    return len(lower) > 4 and lower.endswith(("ize", "yze", "ify"))


def ing_form(verb: str) -> str:
    """The -ing form of one verb, lower case: doubling, e-dropping and the exceptions table."""
    lower = verb.lower()
    if lower in EXCEPTIONS:
        return EXCEPTIONS[lower]
    if "-" in lower:
        head, _, tail = lower.rpartition("-")
        return f"{head}-{ing_form(tail)}"
    if lower.endswith("ie"):
        return lower[:-2] + "ying"
    if lower.endswith("e") and len(lower) > 2 and not lower.endswith(("ee", "ye", "oe")):
        return lower[:-1] + "ing"
    if lower in DOUBLING or (_one_syllable(lower) and _ends_cvc(lower)):
        return lower + lower[-1] + "ing"
    return lower + "ing"


def active_form(description: str) -> str:
    """Present-continuous form of an imperative task ("Run tests" -> "Running tests")."""
    text = " ".join(description.split())
    if not text:
        return "Working"
    body = _LEADING_FILLER.sub("", text, count=1) or text
    match = _FIRST_WORD.match(body)
    if match is None or not is_verb(match.group(1)):
        return f"Working on: {text}"
    word, rest = match.groups()
    conjugated = ing_form(word)
    if word.isupper() and len(word) > 1:
        conjugated = conjugated.upper()
    elif text[0].isupper():
        conjugated = conjugated[0].upper() + conjugated[1:]
    return conjugated + rest


def _one_syllable(word: str) -> bool:
    return len(re.findall(r"[aeiouy]+", word[1:] if word.startswith("y") else word)) == 1


def _ends_cvc(word: str) -> bool:
    if len(word) < 3:
        return False
    c1, v, c2 = word[-3], word[-2], word[-1]
    return c1 not in _VOWELS and v in _VOWELS and c2 not in _VOWELS + "wxy"
