/* BTF of a KVM whose shadow pages cache no translation at all. */
typedef unsigned long long u64;
struct kvm_mmu_page { u64 *spt; u64 gfn; };
struct kvm_mmu_page page;
