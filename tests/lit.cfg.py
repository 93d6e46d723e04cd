# lit configuration for fusejit's FileCheck regression tests: each `.fj` file
# under tests/ carries its own `# RUN:` lines and `# CHECK:` expectations.
import os
import lit.formats

config.name = "fusejit"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".fj"]
config.test_source_root = os.path.dirname(__file__)
# CTest runs each file as its own lit invocation, two at a time, and every
# invocation rewrites `.lit_test_times.txt` in its exec root: a shared root
# lets one run read the file half written by another and fail in discovery.
# Each file therefore gets its own exec root (`--param run=NAME`).
config.test_exec_root = os.path.join(config.fusejit_build_dir, "tests", "lit", lit_config.params.get("run", "all"))
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]

path = [config.fusejit_tool_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(path)
# Sanitized builds (scripts/test.sh) configure their runtimes by environment.
for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"):
    if name in os.environ:
        config.environment[name] = os.environ[name]
# Kernels compiled by one test must not be served to another from disk.
config.environment["FUSEJIT_CACHE_DIR"] = os.path.join(config.test_exec_root, "cache")
config.substitutions.append(("%examples", os.path.join(config.fusejit_source_dir, "examples", "programs")))
