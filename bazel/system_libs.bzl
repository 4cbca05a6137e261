"""System C++ libraries from Debian, linked through pkg-config in one place.

`system_libraries()` creates the repository @system whose targets (e.g. @system//:grpc) carry
the defines and link flags that pkg-config reports on this machine.
"""

# target name -> (pkg-config modules, extra link flags for libraries without a .pc file)
_LIBS = {
    "absl": (["absl_status", "absl_statusor", "absl_strings", "absl_str_format", "absl_synchronization", "absl_time", "absl_flags", "absl_flags_parse", "absl_random_random", "absl_hash", "absl_raw_hash_set", "absl_cord"], []),
    "benchmark": (["benchmark"], []),
    "cli11": ([], []),
    "crypt": (["libcrypt"], []),
    "curl": (["libcurl"], []),
    "gmock": (["gmock"], []),
    "grpc": (["grpc++", "grpc"], ["-lgrpc++_reflection"]),
    "gtest": (["gtest"], []),
    "gtest_main": (["gtest_main", "gmock"], []),
    "httplib": (["cpp-httplib"], []),
    "openssl": (["openssl"], []),
    "prometheus": (["prometheus-cpp-core"], []),  # only //lib:metrics_bench (see lib/metrics.h)
    "protobuf": (["protobuf"], []),
    "rapidjson": ([], []),
    "spdlog": (["spdlog"], []),
    "yaml_cpp": (["yaml-cpp"], []),
}

def _pkg_config(ctx, flag, modules):
    if not modules:
        return []
    result = ctx.execute(["pkg-config", flag] + modules)
    if result.return_code != 0:
        fail("pkg-config %s %s failed (install the Debian packages: ./dev.sh deps): %s" %
             (flag, " ".join(modules), result.stderr))
    return [f for f in result.stdout.strip().split(" ") if f]

def _system_libraries_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra) in sorted(_LIBS.items()):
        defines = []
        copts = []
        for f in _pkg_config(ctx, "--cflags", modules):
            if f.startswith("-D"):
                defines.append(f[2:])
            elif f.startswith("-I/usr/include"):
                pass  # already a system include directory
            else:
                copts.append(f)
        linkopts = _pkg_config(ctx, "--libs", modules) + extra
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    defines = %s," % repr(defines))
        lines.append("    copts = %s," % repr(copts))
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append(")")
        lines.append("")
    ctx.file("WORKSPACE", 'workspace(name = "system")\n')
    ctx.file("BUILD.bazel", "\n".join(lines))

_system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)

def system_libraries():
    _system_libraries(name = "system")
