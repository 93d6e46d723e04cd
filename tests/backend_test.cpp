// The backend seam (codegen/backend.h): plans compile their kernels through
// a Backend and run them on its Device's memory, so a backend that is not
// the CPU JIT sees every compile, launch, allocation and transfer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codegen/backend.h"
#include "codegen/cpu_backend.h"
#include "engine/execute.h"
#include "engine/fuse.h"
#include "engine/optimize.h"
#include "engine/pipeline.h"
#include "engine/plan_memory.h"
#include "ir/graph.h"
#include "runtime/compare.h"
#include "runtime/interpreter.h"
#include "runtime/random.h"

namespace fusejit {
namespace {

// Host memory that counts what the plan asks of it.
class CountingDevice final : public Device {
 public:
  const char *name() const override { return "counting"; }
  DeviceBuffer allocate(DType dtype, const Shape &shape) override {
    ++allocations;
    return host_device().allocate(dtype, shape);
  }
  DeviceBuffer allocate_bytes(size_t bytes) override {
    ++slot_allocations;
    return host_device().allocate_bytes(bytes);
  }
  DeviceBuffer to_device(const Buffer &host) override {
    ++uploads;
    return host_device().to_device(host);
  }
  Buffer to_host(const DeviceBuffer &buffer, DType dtype, const Shape &shape) override {
    ++downloads;
    return host_device().to_host(buffer, dtype, shape);
  }
  int allocations = 0, slot_allocations = 0, uploads = 0, downloads = 0;
};

// The CPU JIT behind a backend of another name, counting its calls.
class CountingBackend final : public Backend {
 public:
  const char *name() const override { return "counting"; }
  Device &device() override { return device_; }
  std::shared_ptr<const Executable> compile(const Kernel &k, Numerics numerics) override {
    ++compiles;
    return cpu_backend().compile(k, numerics);
  }
  void launch(const Executable &kernel, const std::vector<DeviceBuffer> &buffers,
              int threads) override {
    ++launches;
    for (const DeviceBuffer &b : buffers) EXPECT_NE(b.address, nullptr);
    cpu_backend().launch(kernel, buffers, threads);
  }
  CountingDevice device_;
  int compiles = 0, launches = 0;
};

TEST(Backend, PlansCompileAndRunThroughTheBackendAndItsDevice) {
  // Two kernels (a matmul, then a reduction of its relu): one temp, one
  // root, two inputs.
  NodeRef a = ir::input(DType::F32, {9, 7}), b = ir::input(DType::F32, {7, 5});
  NodeRef y = ir::reduce(Op::Sum, ir::unary(Op::Exp, ir::matmul(a, b)), {1});
  Plan plan = fuse(optimize_graph({y}, Numerics::Strict));
  plan_memory(plan);
  ASSERT_GE(plan.kernels.size(), 2u);

  CountingBackend backend;
  std::vector<std::shared_ptr<const Executable>> kernels;
  for (const Kernel &k : plan.kernels) kernels.push_back(backend.compile(k, Numerics::Strict));
  Generator g(4);
  std::vector<Buffer> inputs;
  Bindings bindings;
  for (const Node *n : plan.input_nodes) {
    inputs.push_back(random_uniform(n->dtype, n->shape, g, -1, 1));
    bindings.emplace(n, inputs.back());
  }
  std::vector<Buffer> got = execute_plan(plan, inputs, backend, kernels);
  std::vector<Buffer> want = interpret({y}, bindings);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(compare_values(got[0], want[0], tolerance_for(y)).ok);

  const CountingDevice &device = backend.device_;
  EXPECT_EQ(backend.compiles, int(plan.kernels.size()));
  EXPECT_EQ(backend.launches, int(plan.kernels.size()));
  EXPECT_EQ(device.uploads, 2);
  EXPECT_EQ(device.downloads, 1);
  int outputs = 0;
  for (const PlanBuffer &pb : plan.buffers) outputs += pb.role == PlanBuffer::Role::Output;
  EXPECT_EQ(device.allocations, outputs);
  EXPECT_EQ(device.slot_allocations, int(plan.slot_bytes.size()));
  EXPECT_GE(device.slot_allocations, 1);
}

// What realize() runs is compiled by, and runs on, the default backend.
TEST(Backend, PreparedPlansUseTheDefaultBackend) {
  EXPECT_STREQ(default_backend().name(), "cpu");
  EXPECT_STREQ(default_backend().device().name(), "host");
  NodeRef x = ir::input(DType::F64, {6, 4});
  PreparedGraph prepared = prepare({ir::unary(Op::Tanh, x)}, Numerics::Strict);
  EXPECT_EQ(prepared.compiled->backend, &default_backend());
  ASSERT_EQ(prepared.compiled->kernels.size(), 1u);
  EXPECT_NE(dynamic_cast<const CpuExecutable *>(prepared.compiled->kernels[0].get()), nullptr);
}

}  // namespace
}  // namespace fusejit
