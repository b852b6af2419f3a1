"""golf-check's audit shim, running inside every Python process of an audited run.

It sends one JSON message per event over the descriptor ``$GOLF_CHECK_TRACE_FD`` that
golf-check handed to the run (a socket pair the harness reads live; every process of the run
shares it, and subprocesses get it passed on), each with ``t`` = ``time.monotonic()`` (one
clock for every process on the machine, the harness's too) and ``pid``:

* ``open``: validation/training shards, the tokenizer, code files from the script's folder,
  and every file opened for writing; ``mod``: deletes, renames, truncations, chmods;
* ``net``: any attempt to reach another host, and Python connections to loopback ports other
  than torch.distributed's rendezvous;
* ``proc``: subprocesses, ``os.system``, exec, fork, before they happen; a Python child
  that would run without the shim (``-I``, ``-S``, ``-E``, or an environment without it) is
  marked ``unaudited``;
* ``bind``: ports a Python process listens on (a rendezvous port it opened itself is not
  torch's), ``rdv``: connections to the rendezvous port;
* ``open`` of kind ``run`` (a file of the run's working folder read back) and ``side`` (a
  non-code file of the script's folder read at run time): what the artifact is made of;
* ``beat``: every two seconds, from a thread, with the process's counters and whether the
  shim's own hooks are still in place (an empty or silent trace is itself evidence);
* ``step``: every optimizer step (a global optimizer step pre-hook, installed once torch is
  imported);
* ``backward``: every ``Tensor.backward`` (updates by optimizers that are not torch's);
* ``fwd``: every forward pass of a root module (one not called from inside another module's
  forward) whose integer inputs are windows of the validation stream: the grad mode and which
  stream rows ``[start, end)`` the inputs covered (a flat list), found by hashing each row's first K tokens into a
  sorted index of the stream's K-grams that golf-check built beforehand;
  and whether any module had forward hooks at the time (calibration statistics);
* ``reset``: ``load_state_dict`` (a reset of the model state between evaluation passes);
  ``save``: ``torch.save`` targets (its writer bypasses Python's ``open``).

Audit hooks cannot be removed and see every process the candidate starts with Python, but a
determined program can still bypass them (ctypes, raw syscalls): that is why the network and
the user's files are also fenced off by the sandbox, outside this process.

This file must stay importable without golf-check (only the standard library at import time;
numpy and torch are touched only once the candidate has imported torch).
"""

import errno
import json
import os
import sys
import threading
import time

K = 8  # tokens per hashed window: long enough that a match is almost never a coincidence
_PRIME = 0x100000001B3
_MAX_TRIES = 32  # index entries tried per K-gram that repeats in the stream

_LOOPBACK = ("localhost", "127.", "::1", "0.0.0.0", "ip6-localhost")
BEAT_S = 2.0
_MAX_SPANS = 2048  # spans per fwd message: a message stays far below the socket's limit
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_CODE_SUFFIXES = (".py", ".pyc", ".cpp", ".cc", ".cu", ".cuh", ".c", ".h", ".hpp", ".so")
_IGNORED_WRITES = ("/dev/", "/proc/", "/sys/")
_NOT_SIDE_DIRS = ("__pycache__", "site-packages", "dist-packages", "node_modules")
_MOD_EVENTS = {
    "os.remove": 0,
    "os.rmdir": 0,
    "os.truncate": 0,
    "os.chmod": 0,
    "shutil.rmtree": 0,
    "os.rename": 1,
    "os.link": 1,
    "os.symlink": 1,
}


def kgram_hashes(windows):
    """Hash each row of a ``(B, K)`` integer array (numpy) into one uint64 per row."""
    import numpy as np

    w = np.asarray(windows).astype(np.uint64) + np.uint64(1)
    h = np.zeros(w.shape[0], dtype=np.uint64)
    prime = np.uint64(_PRIME)
    with np.errstate(over="ignore"):
        for j in range(w.shape[1]):
            h = h * prime + w[:, j]
    return h


def _sender(fd):
    """The function that puts one event on the channel. It is a closure, not an attribute:
    replacing ``_Tracer.emit`` does not silence the heartbeat, which reports the counts."""
    sent = {"n": 0, "fwd": 0}

    def send(fields):
        data = (json.dumps(fields, separators=(",", ":"), default=str) + "\n").encode()
        sent["n"] += 1
        if fields.get("ev") == "fwd":
            sent["fwd"] += 1
        if fd is None:
            return
        try:
            os.write(fd, data)
        except OSError as exc:
            if exc.errno != errno.EMSGSIZE:
                return  # a closed channel shows as a silent trace
            stub = {k: fields.get(k) for k in ("ev", "t", "pid")}
            stub["oversize"] = len(data)
            try:
                os.write(fd, json.dumps(stub).encode())
            except OSError:
                pass

    return send, sent


class _Tracer:
    def __init__(self, channel=None):
        self.channel = channel
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.busy = threading.local()  # our own file reads must not trace themselves
        self._send, self.sent = _sender(channel)
        env = os.environ
        self.work_dir = _norm_dir(env.get("GOLF_CHECK_WORK_DIR"))
        self.data_dir = _norm_dir(env.get("GOLF_CHECK_DATA_DIR"))
        self.script_dir = _norm_dir(env.get("GOLF_CHECK_SCRIPT_DIR"))
        self.writable = [
            _norm_dir(p) for p in env.get("GOLF_CHECK_WRITABLE", "").split(os.pathsep) if p
        ]
        self.tokenizer = (
            os.path.abspath(env["GOLF_CHECK_TOKENIZER"])
            if env.get("GOLF_CHECK_TOKENIZER")
            else None
        )
        self.protected = [
            _norm_dir(p) for p in env.get("GOLF_CHECK_PROTECT", "").split(os.pathsep) if p
        ]
        self.block_net = env.get("GOLF_CHECK_BLOCK_NET") == "1"
        # folders inside the script's folder whose files are not the submission's
        self.not_side = [
            d
            for d in (
                self.data_dir,
                _norm_dir(env.get("GOLF_CHECK_OUT_DIR")),
                _norm_dir(sys.prefix),
                _norm_dir(sys.base_prefix),
            )
            if d
        ]
        self.valindex_dir = env.get("GOLF_CHECK_VALINDEX")
        self.valindex_wanted = self.valindex_dir  # None only after a shim error (reported)
        self.valindex = None  # (tokens, sorted hashes, positions) once loaded
        self.forwards = 0
        self.mapped = 0
        self.steps = 0
        self.depth = 0
        self.last_start = 0  # where the last mapped row started (for duplicated text)
        self.cost_s = 0.0  # time spent in the forward hook: the shim's own overhead
        self.hooked = ()
        self.patched = {}  # name -> the object the shim installed, checked by the heartbeat

    # -- the channel

    def after_fork(self):
        self.lock = threading.Lock()
        self.busy = threading.local()
        self.forwards = self.mapped = self.steps = 0
        self.pid = os.getpid()
        self._send, self.sent = _sender(self.channel)
        self.emit("start", ppid=os.getppid(), argv=list(getattr(sys, "argv", [])), forked=True)
        self.start_heartbeat()

    def emit(self, ev, **fields):
        fields["ev"] = ev
        fields["t"] = time.monotonic()
        fields["pid"] = os.getpid()
        with self.lock:
            self._send(fields)

    def start_heartbeat(self):
        send, lock, pid = self._send, self.lock, os.getpid()

        def beat():
            while True:
                time.sleep(BEAT_S)
                fields = {
                    "ev": "beat",
                    "t": time.monotonic(),
                    "pid": pid,
                    "forwards": self.forwards,
                    "mapped": self.mapped,
                    "steps": self.steps,
                    "sent": self.sent["n"],
                    "sent_fwd": self.sent["fwd"],
                    "tampered": self.tampered(),
                }
                with lock:
                    send(fields)

        threading.Thread(target=beat, name="golf-check-beat", daemon=True).start()

    def tampered(self):
        """The shim's own pieces that are no longer what it installed."""
        out = []
        if "emit" in self.__dict__ or type(self).emit is not _ORIGINAL_EMIT:
            out.append("emit")
        if self.valindex_dir != self.valindex_wanted:
            out.append("valindex")
        for name, (owner, attr, installed) in self.patched.items():
            if getattr(owner, attr, None) is not installed:
                out.append(name)
        return out

    # -- audit events

    def audit(self, event, args):
        if getattr(self.busy, "on", False):
            return
        if event == "open":
            self._on_open(*args[:3])
        elif event == "socket.bind":
            self._on_bind(args)
        elif event.startswith("socket."):
            self._on_socket(event, args)
        elif event in _MOD_EVENTS:
            self._on_modify(event, args[_MOD_EVENTS[event]])
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            self._on_process(event, args)
        elif event in ("os.fork", "os.forkpty"):
            self.emit("proc", op=event)
        elif event == "urllib.Request":
            self._network(event, str(args[0]), None)

    def _on_open(self, path, mode, flags):
        if isinstance(path, int) or path is None:
            return
        try:
            path = os.fsdecode(path)
        except (TypeError, ValueError):
            return
        if mode:
            write = any(c in mode for c in "wax+")
        else:
            write = bool((flags or 0) & _WRITE_FLAGS)
        if write:
            full = os.path.abspath(path)
            if full.startswith(_IGNORED_WRITES):
                return
            self.emit("open", path=full, w=True)
            self._guard(full, "open for writing")
            return
        base = os.path.basename(path)
        if self.work_dir or self.script_dir:
            full = os.path.abspath(path)
            if self.work_dir and full.startswith(self.work_dir):
                self.emit("open", path=full, w=False, kind="run")
                return
            if self._is_side_file(full, base):
                self.emit("open", path=full, w=False, kind="side")
                return
        if base.startswith("fineweb_") or base.endswith(_CODE_SUFFIXES) or base.endswith(".model"):
            full = os.path.abspath(path)
            kind = None
            if base.startswith("fineweb_train_"):
                kind = "train"
            elif base.startswith("fineweb_val_"):
                kind = "val"
            elif full == self.tokenizer:
                kind = "tokenizer"
            elif (
                self.script_dir
                and full.startswith(self.script_dir)
                and base.endswith(_CODE_SUFFIXES)
            ):
                kind = "code"
            elif self.data_dir and full.startswith(self.data_dir):
                kind = "data"
            if kind:
                self.emit("open", path=full, w=False, kind=kind)

    def _is_side_file(self, full, base):
        """A non-code file of the script's own folder: not the data, the tokenizer, the
        run's output, an environment or cache inside the folder (.venv, __pycache__)."""
        if not self.script_dir or not full.startswith(self.script_dir):
            return False
        if base.endswith(_CODE_SUFFIXES) or full == self.tokenizer:
            return False
        inside = full[len(self.script_dir) :].split(os.sep)[:-1]
        if any(p.startswith(".") or p in _NOT_SIDE_DIRS for p in inside):
            return False
        return not any(full.startswith(d) for d in self.not_side)

    def _on_modify(self, event, path):
        if isinstance(path, int) or path is None:
            return
        full = os.path.abspath(os.fsdecode(path))
        if full.startswith(_IGNORED_WRITES):
            return
        self.emit("mod", op=event, path=full)
        self._guard(full, event)

    def _guard(self, full, what):
        """Refuse changes to the user's files (the sandbox does this too, where it can)."""
        if any(full.startswith(d) for d in self.writable):
            return
        for prefix in self.protected:
            if full.startswith(prefix) or full + os.sep == prefix:
                raise PermissionError(f"golf-check: {what} {full} refused (a protected path)")

    def _on_socket(self, event, args):
        host = port = None
        if event in ("socket.connect", "socket.sendto", "socket.connect_ex"):
            address = args[1] if len(args) > 1 else None
            if isinstance(address, tuple) and address:
                host, port = address[0], address[1] if len(address) > 1 else None
            else:
                return  # a Unix socket path, not the network
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            host = args[0]
            port = args[1] if event == "socket.getaddrinfo" and len(args) > 1 else None
        else:
            return
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host is None or host == "":
            return
        if str(host).startswith(_LOOPBACK):
            # Resolving localhost is harmless, and torch.distributed's own rendezvous (C++,
            # unseen here, or Python on MASTER_PORT) is how ranks talk. A Python connection
            # to any other loopback port is the program reaching for a local service.
            rendezvous = {os.environ.get("MASTER_PORT"), os.environ.get("TORCHELASTIC_MASTER_PORT")}
            if event.startswith("socket.gethost") or event == "socket.getaddrinfo":
                return
            if port is not None and str(port) in rendezvous:
                # torch's rendezvous, unless a process of the run listens there itself
                # (the harness matches this against the run's ``bind`` events)
                self.emit("rdv", op=event, host=str(host), port=port)
                return
            self.emit("net", op=event, host=str(host), port=port, blocked=False, loopback=True)
            return
        self._network(event, str(host), port)

    def _network(self, event, host, port):
        self.emit("net", op=event, host=host, port=port, blocked=self.block_net)
        if self.block_net:
            raise PermissionError(f"golf-check: network access to {host} refused")

    def _on_bind(self, args):
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and len(address) > 1 and isinstance(address[1], int):
            self.emit("bind", host=str(address[0]), port=address[1])

    def _on_process(self, event, args):
        env = None
        if event == "subprocess.Popen":
            argv, env = args[1], args[3] if len(args) > 3 else None
        elif event == "os.system":
            argv = args[0]
        elif event in ("os.exec", "os.posix_spawn"):
            argv, env = args[1], args[2] if len(args) > 2 else None
        else:
            argv = args[2]
        if isinstance(argv, (list, tuple)):
            argv = [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a) for a in argv]
        else:
            argv = os.fsdecode(argv) if isinstance(argv, bytes) else str(argv)
        fields = {"op": event, "argv": argv}
        words = argv if isinstance(argv, list) else str(argv).split()
        if any(_is_python(w) for w in words):
            fields["python"] = True
            reason = _unaudited(words, env)
            if reason:
                fields["unaudited"] = reason
        self.emit("proc", **fields)

    # -- torch

    def on_torch(self, torch):
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        tracer = self

        def step_hook(optimizer, args, kwargs):
            tracer.steps += 1
            tracer.emit("step", n=tracer.steps, opt=type(optimizer).__name__)

        register_optimizer_step_pre_hook(step_hook)

        module_cls = torch.nn.Module
        original_call = module_cls.__call__
        original_load = module_cls.load_state_dict

        def call(module, *args, **kwargs):
            if tracer.depth:
                return original_call(module, *args, **kwargs)
            tracer.depth = 1
            try:
                return original_call(module, *args, **kwargs)
            finally:
                tracer.depth = 0
                tracer.on_forward(torch, module, args, kwargs)

        def load_state_dict(module, *args, **kwargs):
            if not tracer.depth:
                tracer.emit("reset", model=type(module).__name__, obj=id(module))
            return original_load(module, *args, **kwargs)

        self.patch("Module.__call__", module_cls, "__call__", call)
        module_cls.load_state_dict = load_state_dict

        original_backward = torch.Tensor.backward

        def backward(tensor, *args, **kwargs):
            tracer.emit("backward")
            return original_backward(tensor, *args, **kwargs)

        self.patch("Tensor.backward", torch.Tensor, "backward", backward)

        # Modules with forward hooks: a validation forward that feeds them is collecting
        # statistics (calibration), not just computing a loss.
        import weakref

        hooked = weakref.WeakSet()
        tracer.hooked = hooked
        for name in ("register_forward_hook", "register_forward_pre_hook"):
            original = getattr(module_cls, name)

            def register(module, *args, _original=original, **kwargs):
                hooked.add(module)
                return _original(module, *args, **kwargs)

            setattr(module_cls, name, register)

        original_save = torch.save

        def save(obj, f, *args, **kwargs):
            if isinstance(f, (str, bytes, os.PathLike)):
                tracer.emit("save", path=os.path.abspath(os.fsdecode(f)))
            return original_save(obj, f, *args, **kwargs)

        torch.save = save

    def patch(self, name, owner, attr, installed):
        setattr(owner, attr, installed)
        self.patched[name] = (owner, attr, installed)

    def on_forward(self, torch, module, args, kwargs):
        started = time.perf_counter()
        try:
            self._on_forward(torch, module, args, kwargs)
        finally:
            self.cost_s += time.perf_counter() - started

    def _on_forward(self, torch, module, args, kwargs):
        self.forwards += 1
        if self.valindex_dir is None:
            return
        tensors = [a for a in _flat(args, kwargs) if _is_token_tensor(torch, a)]
        if not tensors:
            return
        try:
            spans = self._map(tensors)
        except Exception as exc:  # never break the candidate's forward pass
            self.emit("shim_error", where="forward", error=repr(exc))
            self.valindex_dir = self.valindex_wanted = None  # reported: not tampering
            return
        if not spans:
            return
        self.mapped += 1
        hooks = any(m._forward_hooks or m._forward_pre_hooks for m in list(self.hooked))
        for i in range(0, len(spans), 2 * _MAX_SPANS):
            self.emit(
                "fwd",
                grad=bool(torch.is_grad_enabled()),
                rows=spans[i : i + 2 * _MAX_SPANS],
                model=type(module).__name__,
                ntensors=len(tensors),
                hooks=hooks,
                part=i // (2 * _MAX_SPANS),
            )

    def _load_index(self):
        import numpy as np

        self.busy.on = True
        try:
            d = self.valindex_dir
            tokens = np.load(os.path.join(d, "tokens.npy"), mmap_mode="r")
            hashes = np.load(os.path.join(d, "hashes.npy"), mmap_mode="r")
            order = np.load(os.path.join(d, "order.npy"), mmap_mode="r")
        finally:
            self.busy.on = False
        self.valindex = (tokens, hashes, order)

    def _map(self, tensors):
        import numpy as np

        if self.valindex is None:
            self._load_index()
        tokens, hashes, order = self.valindex
        n = tokens.shape[0]
        spans = []
        for t in tensors:
            rows = t.detach().reshape(-1, t.shape[-1]).cpu().numpy()
            length = rows.shape[1]
            if length < K:
                continue
            found = np.full(rows.shape[0], -1, dtype=np.int64)
            # A K-gram can repeat in natural text, so a row is looked up by up to three of
            # its K-grams and only a full-length match counts: a coincidence never maps.
            # A row whose whole text occurs twice in the stream (duplicated documents) goes
            # to the occurrence nearest the rows mapped just before it: evaluation and
            # test-time training walk the stream left to right.
            for offset in sorted({0, (length - K) // 2, length - K}):
                todo = np.flatnonzero(found < 0)
                if not todo.size:
                    break
                keys = kgram_hashes(rows[todo, offset : offset + K])
                lo = np.searchsorted(hashes, keys, side="left")
                hi = np.searchsorted(hashes, keys, side="right")
                # Rows whose K-gram occurs once in the stream: one vectorized comparison.
                unique = (hi - lo) == 1
                if unique.any():
                    cand = order[lo[unique]].astype(np.int64) - offset
                    fits = (cand >= 0) & (cand <= n - length)
                    ok = np.zeros(cand.size, dtype=bool)
                    if fits.any():
                        window = tokens[cand[fits, None] + np.arange(length)]
                        ok[fits] = (window == rows[todo[unique][fits]]).all(axis=1)
                    found[todo[unique][ok]] = cand[ok]
                # Repeated K-grams: try the occurrences one by one.
                for b, i, j in zip(todo[~unique], lo[~unique], hi[~unique], strict=True):
                    matches = []
                    for p in order[i : min(j, i + _MAX_TRIES)]:
                        p = int(p) - offset
                        if 0 <= p <= n - length and np.array_equal(tokens[p : p + length], rows[b]):
                            matches.append(p)
                    if matches:
                        anchor = self.last_start
                        found[b] = min(
                            matches, key=lambda p: (p < anchor - length, abs(p - anchor))
                        )
                        self.last_start = int(found[b])
            if (found >= 0).any():
                self.last_start = int(found[found >= 0][-1])
            for p in found[found >= 0]:
                spans += (int(p), int(p) + length)
        return spans

    def close(self):
        try:
            fields = {
                "forwards": self.forwards,
                "mapped": self.mapped,
                "steps": self.steps,
                "forward_hook_s": round(self.cost_s, 6),
            }
            if self.script_dir:  # every module the process imported from the script's folder
                files = (getattr(m, "__file__", None) for m in list(sys.modules.values()))
                full = {os.path.abspath(f) for f in files if isinstance(f, str)}
                code = sorted(f for f in full if f.startswith(self.script_dir))
                for i in range(0, len(code), 200):  # small messages: the channel's limit
                    self.emit("code", files=code[i : i + 200])
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
                fields["cuda_peak_bytes"] = [
                    int(torch.cuda.max_memory_allocated(i))
                    for i in range(torch.cuda.device_count())
                ]
                fields["gpu"] = torch.cuda.get_device_name(0)
            self.emit("exit", **fields)
        except Exception:
            pass


_ORIGINAL_EMIT = _Tracer.emit
_PY_FLAGS_WITH_VALUE = "cmWXQ"


def _is_python(word):
    base = os.path.basename(str(word)).strip("'\"")
    return base.startswith("python") or base == os.path.basename(sys.executable)


def _unaudited(words, env):
    """Why a Python child would start without the shim, or None."""
    for i, word in enumerate(words):
        if not _is_python(word):
            continue
        for arg in words[i + 1 :]:
            if arg.startswith("--"):
                continue
            if not arg.startswith("-") or arg == "-":
                break
            for letter in arg[1:]:
                if letter in "ISE":
                    return f"python -{letter} does not load the shim"
                if letter in _PY_FLAGS_WITH_VALUE:
                    break
            if arg[1:2] in ("c", "m"):
                break
        break
    if env is not None:
        try:
            keys = {os.fsdecode(k) for k in env}
            pythonpath = os.fsdecode(env.get("PYTHONPATH", env.get(b"PYTHONPATH", "")))
        except (TypeError, AttributeError, ValueError):
            return None
        shim_dir = os.path.dirname(os.path.abspath(__file__))
        if "GOLF_CHECK_TRACE_FD" not in keys or shim_dir not in pythonpath.split(os.pathsep):
            return "an environment without golf-check's shim"
    return None


def _pass_channel_to_subprocesses(fd):
    """subprocess closes inherited descriptors by default; keep the trace channel open."""
    import subprocess

    original = subprocess.Popen.__init__

    def init(self, *args, **kwargs):
        if kwargs.get("close_fds", True) is not False:
            kwargs["pass_fds"] = tuple(kwargs.get("pass_fds", ())) + (fd,)
        return original(self, *args, **kwargs)

    subprocess.Popen.__init__ = init


def _watch_listeners(tracer):
    """A port bound to 0 is only known once bound: report each Python listener's real port."""
    import socket

    original = socket.socket.listen

    def listen(sock, *args):
        try:
            address = sock.getsockname()
            if isinstance(address, tuple) and len(address) > 1:
                tracer.emit("bind", host=str(address[0]), port=address[1], op="listen")
        except OSError:
            pass
        return original(sock, *args)

    tracer.patch("socket.listen", socket.socket, "listen", listen)


def _norm_dir(path):
    if not path:
        return None
    return os.path.abspath(path).rstrip(os.sep) + os.sep


def _flat(args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def _is_token_tensor(torch, a):
    return (
        isinstance(a, torch.Tensor)
        and a.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8)
        and 1 <= a.dim() <= 2
        and a.numel() >= K
    )


class _TorchFinder:
    """Runs the torch instrumentation right after ``import torch`` completes."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.active = False

    def find_spec(self, name, path=None, target=None):
        if name != "torch" or self.active:
            return None
        import importlib.util

        self.active = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.active = False
        if spec is None or spec.loader is None:
            return None
        loader, tracer = spec.loader, self.tracer
        original_exec = loader.exec_module

        def exec_module(module):
            original_exec(module)
            try:
                tracer.on_torch(module)
            except Exception as exc:
                tracer.emit("shim_error", where="torch", error=repr(exc))

        loader.exec_module = exec_module
        sys.meta_path.remove(self)
        return spec


_tracer = None
_socket = None  # the connection to the harness, when the inherited descriptor was closed


def _channel():
    """The inherited descriptor; else (a child started with its descriptors closed, like a
    multiprocessing spawn worker) a new connection to the harness's listening socket."""
    global _socket
    try:
        fd = int(os.environ["GOLF_CHECK_TRACE_FD"])
        if _is_seqpacket(fd):
            return fd
    except (KeyError, ValueError, OSError):
        pass
    path = os.environ.get("GOLF_CHECK_TRACE_SOCKET")
    if not path:
        return _trace_file()
    import socket

    try:
        _socket = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        _socket.connect(path)
    except OSError:
        return None
    os.environ["GOLF_CHECK_TRACE_FD"] = str(_socket.fileno())  # what children inherit
    return _socket.fileno()


def _trace_file():
    """Outside ``golf-check run`` (bench/bench_run.py times the shim), events may go to
    ``$GOLF_CHECK_TRACE_DIR/trace.<pid>.jsonl`` instead; the run itself never uses a file."""
    directory = os.environ.get("GOLF_CHECK_TRACE_DIR")
    if not directory:
        return None
    path = os.path.join(directory, f"trace.{os.getpid()}.jsonl")
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return None


def _is_seqpacket(fd):
    """The descriptor is open and is the trace socket, not a file that reused its number."""
    import socket

    try:
        with socket.socket(fileno=os.dup(fd)) as probe:
            return probe.type == socket.SOCK_SEQPACKET
    except OSError:
        return False


def install():
    global _tracer
    if _tracer is not None:
        return _tracer
    channel = _channel()
    if channel is None:
        print(f"golf-check shim: no trace channel in process {os.getpid()}", file=sys.stderr)
    _tracer = _Tracer(channel)
    if channel is not None:
        _pass_channel_to_subprocesses(channel)
    _watch_listeners(_tracer)
    _tracer.start_heartbeat()
    _tracer.emit(
        "start",
        ppid=os.getppid(),
        argv=list(getattr(sys, "argv", [])),
        rank=os.environ.get("RANK"),
        wall=time.time(),
    )
    sys.addaudithook(_tracer.audit)
    sys.meta_path.insert(0, _TorchFinder(_tracer))
    os.register_at_fork(after_in_child=_tracer.after_fork)
    import atexit

    atexit.register(_tracer.close)
    return _tracer
