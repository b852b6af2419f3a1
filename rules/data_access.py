"""DATA, data access: no validation data in training or calibration, no training data at
evaluation, no network (README FAQ; issue #677; PRs #728, #44, #925)."""

from __future__ import annotations

import ast
import re

from golf_check.harness.evidence.levels import audit_finding, positions_finding
from golf_check.harness.rulebook import detector, rule

VAL_CALIBRATION = rule(
    "DATA.val-calibration",
    "DATA",
    "Quantization must not be calibrated on validation data",
    """
GPTQ and similar post-training quantizers collect Hessians or activation statistics from a
calibration set. Calibrating on validation tokens puts information about the validation set
into the artifact and was ruled to break autoregressivity. Calibrate on training data inside
the training budget, or on sequences the model generates itself.

Example:
    hessians = collect_hessians(base_model, val_tokens[: 64 * 2048])
""",
    [
        "https://github.com/openai/parameter-golf/pull/728",
        "https://github.com/openai/parameter-golf/pull/1019",
        "https://github.com/openai/parameter-golf/issues/677",
    ],
)

VAL_IN_TRAINING = rule(
    "DATA.val-in-training",
    "DATA",
    "Validation data may not be used for training",
    """
Validation tokens may be read during training only for logging (`eval_val` under
`torch.inference_mode()`), never to compute a loss that is back-propagated, never as the
training stream, and never stored in the artifact. Gradient steps on validation batches
inside the training loop, or a training loader built over the validation shards, train on
the test set.

Example:
    train_loader = DistributedTokenLoader(args.val_files, rank, world_size, device)
""",
    [
        "https://github.com/openai/parameter-golf/pull/44",
        "https://github.com/openai/parameter-golf/pull/168",
        "https://github.com/openai/parameter-golf/issues/67",
    ],
)

TRAIN_AT_EVAL = rule(
    "DATA.train-data-at-eval",
    "DATA",
    "Evaluation may not read the training shards",
    """
Anything evaluation uses from the training data must already be inside the 16,000,000-byte
artifact. Reading `fineweb_train_*` shards during evaluation (to prefill an n-gram cache,
to calibrate, to build an oracle) uses data the artifact did not pay for.

Example:
    def eval_val_ngram(model, val_tokens):
        cache.prefill(load_data_shard(Path(args.train_files)))
""",
    [
        "https://github.com/openai/parameter-golf/pull/925",
        "https://github.com/openai/parameter-golf/pull/945",
        "https://github.com/openai/parameter-golf/issues/677",
    ],
)

NETWORK = rule(
    "DATA.network",
    "DATA",
    "No network access or downloads during the run",
    """
The artifact must be self-contained: no downloads, API calls or network access while
training or evaluating (data staging before the run is separate). Calls to `requests`,
`urllib`, `http.client`, `socket`, `huggingface_hub`, `datasets.load_dataset`, or
`subprocess` running curl, wget or pip all reach outside the machine.

Example:
    from huggingface_hub import hf_hub_download
    ckpt = hf_hub_download("someone/model", "weights.pt")
""",
    [
        "https://github.com/openai/parameter-golf/blob/main/README.md",
        "https://github.com/openai/parameter-golf/issues/677",
    ],
)

_CALIB = re.compile(r"calib|gptq|hessian|quantiz", re.IGNORECASE)
_EVAL_FUNC = re.compile(r"eval|score|ttt|slot", re.IGNORECASE)
_TRAIN_SOURCE = re.compile(r"^(train_files|train_pattern|train_tokens|train_shards|train_data)$")
_NET_MODULES = (
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "httpx",
    "aiohttp",
    "socket",
    "huggingface_hub",
    "datasets",
    "ftplib",
    "smtplib",
    "wget",
)
_NET_CALLS = re.compile(
    r"^(requests|urllib3|httpx|aiohttp|ftplib|smtplib|wget)\.|^urllib\.request\.|"
    r"^http\.client\.|^socket\.create_connection|^huggingface_hub\.|"
    r"^datasets\.load_dataset|^torch\.hub\.(load|download)|load_state_dict_from_url$"
)
_NET_COMMANDS = re.compile(
    r"(^|[\s/'\"])(curl|wget|pip3?|huggingface-cli|git\s+(clone|fetch|pull|lfs))(\s|$)"
)


@detector(VAL_CALIBRATION, level="static")
def validation_calibration(model):
    """A ``*calib*`` / ``*gptq*`` / ``*hessian*`` / ``*quantiz*`` call given validation data, or
    such a function naming ``fineweb_val_``.

    Confidence: high.

    Cannot see: calibration data passed through an object.
    """
    for site in model.call_sites:
        if not _CALIB.search(site.callee) or _EVAL_FUNC.search(site.callee):
            continue  # eval_quantized(model, val_tokens) scores the quantized model: fine
        if model.is_scoring_function(site.callee):
            continue
        args = list(site.node.args) + [k.value for k in site.node.keywords]
        tainted = [a for a in args if model.is_val(a)]
        if tainted:
            yield model.finding(
                VAL_CALIBRATION,
                site.node,
                f"{site.callee}(...) is given validation data "
                f"(`{ast.unparse(tainted[0])[:50]}`) for calibration",
                fix="calibrate on training batches inside the training budget, or on "
                "self-generated sequences",
            )
    for func in model.functions:
        if not _CALIB.search(func.name) or _EVAL_FUNC.search(func.name):
            continue
        for n in model.walk(func.node):
            if isinstance(n, ast.Constant) and isinstance(n.value, str):
                if "fineweb_val_" in n.value:
                    yield model.finding(
                        VAL_CALIBRATION,
                        n,
                        f"{func.name} reads the validation shards for calibration",
                        fix="calibrate on training data or self-generated sequences",
                    )
            elif isinstance(n, ast.Call) and any(  # load_split(data_dir, "val")
                isinstance(a, ast.Constant) and a.value in _VAL_SPLIT_NAMES for a in n.args
            ):
                yield model.finding(
                    VAL_CALIBRATION,
                    n,
                    f"{func.name} loads the validation split "
                    f"({ast.unparse(n)[:60]}) for calibration",
                    fix="calibrate on training data or self-generated sequences",
                )


_VAL_SPLIT_NAMES = ("val", "valid", "validation")


@detector(VAL_IN_TRAINING, level="static")
def validation_in_training(model):
    """A backward on a validation-derived loss inside a loop that draws training batches; a
    ``train*loader`` built over validation data.

    Confidence: high.

    Cannot see: tokens copied through containers golf-check does not follow.
    """
    from golf_check.harness.static.adaptation import adaptations

    for a in adaptations(model):
        if a.kind == "training":
            yield model.finding(
                VAL_IN_TRAINING,
                a.site,
                "the training loop back-propagates a loss computed on validation tokens",
                fix="train on training shards only; read validation only under "
                "torch.inference_mode() for logging",
                gate_nodes=a.chain,
            )
    for node in model.of_type(ast.Assign):
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if not any(
            re.search(r"train", n, re.I) and re.search(r"load|stream", n, re.I) for n in names
        ):
            continue
        if any(model.is_val(a) for a in node.value.args):
            yield model.finding(
                VAL_IN_TRAINING,
                node,
                f"training loader `{names[0]}` is built over validation data",
                fix="build the training loader over the fineweb_train_* shards",
            )


_SAVE_CALLS = re.compile(
    r"^(torch\.save|numpy\.(save|savez|savez_compressed)|np\.(save|savez|savez_compressed)|"
    r"(lzma|zlib|bz2|brotli|zstd|zstandard)\.compress|pickle\.dumps?)$"
)


# The last names of every call _SAVE_CALLS can match, plus compress/write: a cheap filter.
_SINK_CALLEES = frozenset("save savez savez_compressed compress dump dumps write".split())


@detector(VAL_IN_TRAINING, level="static")
def validation_in_artifact(model):
    """Validation *tokens* (not scores: values from scoring functions, ``.item()``, ``float()``,
    f-strings do not count) passed to ``torch.save``, ``np.save``,
    ``lzma/zlib/bz2/brotli.compress``, ``pickle.dump``, ``.write``, or stored in a dict that is
    saved: the "paid prefix".

    Confidence: high.

    Cannot see: tokens copied through containers golf-check does not follow.
    """
    from golf_check.harness.static.model import resolved_name

    sinks = []
    for site in model.call_sites:
        if site.callee not in _SINK_CALLEES:
            continue
        name = resolved_name(model, site.node.func)
        if _SAVE_CALLS.match(name) or site.callee in ("compress", "write") and site.node.args:
            sinks.append(site.node)
    saved_names = {
        n.id for call in sinks for a in call.args for n in model.walk(a) if isinstance(n, ast.Name)
    }
    # The store into a saved container is the precise evidence; its save is then not
    # reported again.
    stored: set[str] = set()
    for node in model.of_type(ast.Assign):
        target = node.targets[0] if len(node.targets) == 1 else None
        if not isinstance(target, ast.Subscript) or not isinstance(target.value, ast.Name):
            continue
        if target.value.id in saved_names and model.is_val_tokens(node.value):
            stored.add(target.value.id)
            yield model.finding(
                VAL_IN_TRAINING,
                node,
                f"stores validation tokens in `{target.value.id}`, which is saved into the "
                "artifact (paid prefix)",
                fix="never store validation tokens in the artifact",
            )
    for call in sinks:
        for arg in call.args[:1]:
            if isinstance(arg, ast.Name) and arg.id in stored:
                continue
            if model.is_val_tokens(arg):
                yield model.finding(
                    VAL_IN_TRAINING,
                    call,
                    f"writes validation tokens into a saved/compressed blob "
                    f"(`{ast.unparse(arg)[:50]}`): the artifact would carry the validation set",
                    fix="never store validation tokens (or statistics of them) in the artifact",
                )


@detector(TRAIN_AT_EVAL, level="static")
def training_data_at_eval(model):
    """An ``eval*`` / ``*score*`` / ``*ttt*`` / ``*slot*`` function that names ``train_files`` /
    ``fineweb_train_``.

    Confidence: medium.

    Cannot see: train data reached through a helper.
    """
    for func in model.functions:
        if not _EVAL_FUNC.search(func.name) or re.search(r"train", func.name, re.I):
            continue
        for n in model.walk(func.node):
            hit = None
            if isinstance(n, ast.Attribute) and _TRAIN_SOURCE.match(n.attr):
                hit = n
            elif isinstance(n, ast.Name) and _TRAIN_SOURCE.match(n.id):
                hit = n
            elif isinstance(n, ast.Constant) and isinstance(n.value, str):
                if "fineweb_train_" in n.value:
                    hit = n
            if hit is not None and model.function_of(hit) is func:
                yield model.finding(
                    TRAIN_AT_EVAL,
                    hit,
                    f"evaluation function {func.name} reads training data "
                    f"(`{ast.unparse(hit)[:40]}`)",
                    confidence="medium",
                    fix="precompute what evaluation needs during training and store it in "
                    "the artifact (it then counts toward the cap)",
                )
                break


_PROCESS_CALLEES = frozenset(("run", "call", "check_call", "check_output", "Popen", "system"))


@detector(NETWORK, level="static")
def network_access(model):
    """Calls into ``requests``, ``urllib.request``, ``http.client``, ``httpx``,
    ``socket.create_connection``, ``huggingface_hub``, ``datasets.load_dataset``, ``torch.hub``;
    subprocess/``os.system`` running curl, wget, pip, ``git clone``; a bare import of such a
    library is a low-confidence warning.

    Confidence: high.

    Cannot see: dynamic imports.
    """
    from golf_check.harness.static.model import resolved_name

    called = False
    aliases = model.aliases
    for site in model.call_sites:
        if site.callee not in _PROCESS_CALLEES and site.callee != "load_state_dict_from_url":
            head = site.node.func
            while isinstance(head, ast.Attribute):
                head = head.value
            if not (isinstance(head, ast.Name) and head.id in aliases):
                continue  # not a module's function: no network library call
        name = resolved_name(model, site.node.func)
        if _NET_CALLS.search(name):
            called = True
            yield model.finding(
                NETWORK,
                site.node,
                f"network call {name}(...)",
                fix="ship everything the run needs in the artifact; stage data before the run",
            )
        elif site.callee in _PROCESS_CALLEES:
            text = " ".join(
                n.value
                for n in model.walk(site.node)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
            if _NET_COMMANDS.search(" " + text):
                called = True
                yield model.finding(
                    NETWORK,
                    site.node,
                    f"runs a download/install command: {text[:60]!r}",
                    fix="install and download before the run; the run itself must be offline",
                )
    if called:
        return
    for node in model.of_type(ast.Import, ast.ImportFrom):
        modules = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        for mod in modules:
            if mod in _NET_MODULES or mod.startswith(("huggingface_hub.", "urllib.request")):
                yield model.finding(
                    NETWORK,
                    node,
                    f"imports network library {mod}",
                    confidence="low",
                    severity="warning",
                    fix="remove the import if the run does not need the network",
                )


# --------------------------------------------------------------------------- runtime
# `golf-check run` detectors: each receives one harness.runtime.session.SeedAudit, whose
# trace records what the candidate process actually did (harness/runtime/shim).


@detector(VAL_IN_TRAINING, level="runtime")
def trained_on_validation(audit):
    """Trace: validation positions went through gradient-enabled forward passes followed by an
    update before the artifact was written."""
    cov = audit.coverage
    if cov is None or not cov.trained_before_artifact:
        return
    yield positions_finding(
        VAL_IN_TRAINING,
        audit,
        f"{cov.trained_before_artifact:,} validation positions went through gradient-enabled "
        "forward passes followed by an update before the artifact was written",
        cov.trained_before_artifact_first,
        fix="train on the training shards only; read validation data only under no_grad for logging",
    )


@detector(VAL_CALIBRATION, level="runtime")
def calibrated_on_validation(audit):
    """Trace: validation windows passed through the model under forward hooks (collecting
    calibration statistics) before the artifact was written."""
    if audit.coverage is None:
        return
    t_art = audit.artifact.written_at if audit.artifact else float("inf")
    hooked = [
        e for e in audit.trace.of("fwd") if e.get("hooks") and not e.get("grad") and e["t"] < t_art
    ]
    if hooked:
        rows = sum(len(e.get("rows", [])) // 2 for e in hooked)
        yield audit_finding(
            VAL_CALIBRATION,
            audit,
            f"{rows} validation windows passed through the model while forward hooks were "
            "collecting statistics, before the artifact was written",
            evidence=f"{len(hooked)} forward pass(es) of {hooked[0].get('model')} with hooks",
            level="runtime",
            fix="calibrate on training data (inside the training budget) or on generated text",
        )


@detector(TRAIN_AT_EVAL, level="runtime")
def training_shards_at_eval(audit):
    """Trace: training shards opened after the artifact was written, during evaluation."""
    if audit.artifact is None:
        return
    late = [e for e in audit.trace.opens("train") if e["t"] > audit.artifact.written_at]
    if late:
        names = sorted({e["path"].rsplit("/", 1)[-1] for e in late})
        yield audit_finding(
            TRAIN_AT_EVAL,
            audit,
            f"opened {len(names)} training shard(s) after the artifact was written "
            f"({late[0]['t'] - audit.artifact.written_at:.1f} s into evaluation)",
            evidence=", ".join(names[:4]),
            level="runtime",
            fix="put whatever evaluation needs from the training data into the artifact",
        )


@detector(NETWORK, level="runtime")
def network_attempts(audit):
    """Trace: network connections the run attempted, blocked by the sandbox or on loopback."""
    attempts = audit.trace.of("net")
    if attempts:
        hosts = sorted({f"{e.get('host')}:{e.get('port')}" for e in attempts})
        where = (
            "on the loopback interface"
            if all(e.get("loopback") for e in attempts)
            else f"(blocked by the {audit.sandbox.network})"
        )
        yield audit_finding(
            NETWORK,
            audit,
            f"{len(attempts)} network attempt(s) to {', '.join(hosts[:3])} {where}",
            evidence="\n".join(
                f"{e.get('op')} {e.get('host')}:{e.get('port')}" for e in attempts[:4]
            ),
            level="runtime",
            fix="ship everything the run needs in the artifact; no downloads or calls",
        )


@detector(NETWORK, level="runtime")
def network_commands(audit):
    """Processes the run started that download or install (curl, wget, pip, git clone): the
    sandbox refuses their connections, which the shim in Python never sees, so the command
    line itself is the evidence."""
    started = []
    for event in audit.trace.of("proc"):
        argv = event.get("argv")
        text = " ".join(map(str, argv)) if isinstance(argv, list) else str(argv or "")
        if _NET_COMMANDS.search(text):
            started.append(text[:160])
    if started:
        yield audit_finding(
            NETWORK,
            audit,
            f"the run started {len(started)} download or install command(s), e.g. "
            f"{started[0]!r} (refused by the {audit.sandbox.network} sandbox, or reaching out "
            "where there is none)",
            evidence="\n".join(started[:4]),
            level="runtime",
            fix="install and download before the run; the run itself must be offline",
        )
