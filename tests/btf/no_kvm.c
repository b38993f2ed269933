/* BTF of a "kernel" without KVM, for the refusal test (clang -g -target bpf). */
struct task_struct { int pid; };
struct task_struct task;
