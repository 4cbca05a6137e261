"""labkube_proto: C++ (and gRPC) code from .proto files with the system protoc and grpc_cpp_plugin.

Proto files live under //proto with import paths relative to it (labkube/<api>/<version>/x.proto);
the generated headers are included the same way: #include "labkube/scheduler/v1alpha1/scheduler.grpc.pb.h".
"""

def labkube_proto(name, srcs, proto_deps = [], deps = [], grpc = True, visibility = None, testonly = False):
    """One cc_library `name` with the messages (and services, if grpc) of `srcs`.

    proto_deps: other .proto files imported by srcs (generated elsewhere; listed for protoc).
    deps: the cc targets generated from those proto_deps.
    testonly: for protos that only tests use.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    root = native.package_name()
    cmd = "/usr/bin/protoc -I%s -I/usr/include --cpp_out=$(RULEDIR)" % root
    if grpc:
        cmd += " --grpc_out=$(RULEDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"
    cmd += " " + " ".join(srcs)
    native.genrule(
        name = name + "_gen",
        srcs = srcs + proto_deps,
        outs = outs,
        cmd = cmd,
        message = "protoc " + " ".join(srcs),
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
        testonly = testonly,
    )
