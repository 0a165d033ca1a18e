{
  # The capture addon, linked dynamically against the system libbpf (Debian's
  # libbpf.a is not position-independent). scripts/build-native.js generates the
  # skeleton into ../bpf/build first.
  "targets": [
    {
      "target_name": "flow_capture",
      "sources": [
        "src/addon.cc",
        "src/flow_capture_binding.cc",
        "src/core/flow_capture.cc",
        "src/core/libbpf_log.cc"
      ],
      "include_dirs": ["../bpf", "../bpf/build"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
      "libraries": ["<!@(pkg-config --libs libbpf)"]
    }
  ]
}
