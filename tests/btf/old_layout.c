/* BTF of a KVM whose shadow pages have only the old gfns array (pre-5.19). */
typedef unsigned long long u64;
typedef u64 gfn_t;
struct kvm_mmu_page { u64 *spt; gfn_t *gfns; gfn_t gfn; };
struct kvm_mmu_page page;
