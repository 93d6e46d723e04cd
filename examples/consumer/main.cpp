// The seed example against an installed fusejit: a zip then a reduce, fused
// into one matmul kernel, realized once when the values are read; then one
// gradient step. Builds with CMake (find_package) or with nothing but
//   g++ main.cpp $(pkg-config --cflags --libs fusejit)
#include <fusejit/fusejit.h>

#include <iostream>
#include <vector>

int main() {
  using fusejit::Tensor;
  fusejit::set_num_threads(2);
  fusejit::set_numerics(fusejit::Numerics::Strict);

  std::vector<float> a_data{1, 2, 3, 4, 5, 6};
  Tensor a = Tensor::from_blob(a_data.data(), {2, 3, 1});  // no copy
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {3, 2}).requires_grad_();
  Tensor d = (a * b).sum({1}).relu() + 0.5;  // a graph; nothing computed yet
  std::cout << fusejit::dump(d, fusejit::Stage::Kernels);
  std::cout << d << "\n";  // compiles and runs once

  d.sum().backward();
  {
    fusejit::NoGradGuard no_grad;
    b = (b - 0.5 * b.grad()).detach().requires_grad_();
  }
  std::cout << b.t() << "\n";
  for (float v : d.to_vector<float>()) std::cout << v << " ";
  std::cout << "\n";
  return 0;
}
