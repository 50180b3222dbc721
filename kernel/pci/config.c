// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev PCI core library: config space as user space sees it, region 7
 * of the device file.
 *
 * User space gets a virtual copy of config space (vconfig), taken when the
 * device is opened, and two masks per byte that decide what reaches the
 * device:
 *
 *   virt   bits read from vconfig; the others are read from the device
 *   write  bits user space may write; virtual ones go to vconfig, the
 *          others to the device
 *
 * Everything is virtual and read-only unless a rule below says otherwise,
 * so a register nobody thought about can neither leak nor be changed.  The
 * rules are a table per capability (struct vdpci_cap_rule), applied where
 * the capability sits; a variant driver can adjust the masks of any range
 * after open with vdpci_core_config_perm().
 *
 * Special registers: BARs and the ROM BAR are emulated (sizing works as on
 * hardware; the device's real addresses are never shown and never
 * changed); the command register's Memory, I/O, Bus Master, Parity and
 * SERR bits go to the device, INTx Disable stays virtual (the interrupt
 * code owns the real one); capabilities user space must not see are taken
 * out of the chain.
 *
 * Locking: memory_lock for write around command register and power state
 * writes (turning memory decoding off, or entering D3hot, removes the user
 * mappings first), for read while
 * vdpci_memory_enabled() looks at vconfig; the rest of vconfig is touched
 * only by user space's own reads and writes under cfg_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "../compat.h"
#include "priv.h"

/* Command register bits that reach the device. */
#define VDPCI_CMD_PASSTHROUGH	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | \
				 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
				 PCI_COMMAND_SERR)

/**
 * struct vdpci_reg_rule - masks for a register of a capability
 * @off: offset in the capability
 * @len: bytes (1, 2 or 4)
 * @virt: bits read from vconfig
 * @write: bits user space may write
 */
struct vdpci_reg_rule {
	u16 off;
	u8 len;
	u32 virt;
	u32 write;
};

/**
 * struct vdpci_cap_rule - what user space may do with a capability
 * @id: capability ID
 * @rules: its registers; bytes not named stay virtual and read-only
 * @n: entries in @rules
 */
struct vdpci_cap_rule {
	u8 id;
	const struct vdpci_reg_rule *rules;
	unsigned int n;
};

/* The type 0 header. */
static const struct vdpci_reg_rule vdpci_header_rules[] = {
	{ PCI_COMMAND, 2, 0xffff, 0xffff },	/* handled specially */
	/* Status: error bits are write-one-to-clear, on the device. */
	{ PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0xf900 },
	{ PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff },
	{ PCI_LATENCY_TIMER, 1, 0xff, 0xff },
	{ PCI_BASE_ADDRESS_0, 24, 0xffffffff, 0xffffffff },	/* emulated */
	{ PCI_ROM_ADDRESS, 4, 0xffffffff, 0xffffffff },		/* emulated */
	{ PCI_INTERRUPT_LINE, 1, 0xff, 0xff },
};

/*
 * Power management, as upstream: the power state is read from the device,
 * and a new one written is set by the library (vdpci_set_power_state()),
 * not written as a bit; PME is virtual and reads as unsupported, off and
 * clear (user space cannot field PMEs the host takes).  The other control
 * bits are written to the device.
 */
#define VDPCI_PM_CTRL_VIRT	(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS)
static const struct vdpci_reg_rule vdpci_pm_rules[] = {
	{ PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, 0 },
	{ PCI_PM_CTRL, 4, VDPCI_PM_CTRL_VIRT,
	  ~(VDPCI_PM_CTRL_VIRT | PCI_PM_CTRL_STATE_MASK) },
};

/*
 * MSI: all virtual; the interrupt code programs the real one, and the
 * enable bit only stays set while it has MSI on (see the write path).
 */
static const struct vdpci_reg_rule vdpci_msi_rules[] = {
	{ PCI_MSI_FLAGS, 2, 0xffff, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ PCI_MSI_ADDRESS_LO, 4, 0xffffffff, 0xfffffffc },
	/* Upper address or data, then data or mask: all writable, virtual. */
	{ PCI_MSI_ADDRESS_HI, 4, 0xffffffff, 0xffffffff },
	{ PCI_MSI_DATA_64, 4, 0xffffffff, 0xffffffff },
	{ PCI_MSI_MASK_64, 4, 0xffffffff, 0xffffffff },
};

/*
 * MSI-X: shown, read-only and virtual, as upstream has it: user space
 * turns it on with VFIO_DEVICE_SET_IRQS, never through config space.
 */
static const struct vdpci_reg_rule vdpci_msix_rules[] = {
	{ PCI_MSIX_FLAGS, 2, 0xffff, 0 },
};

/* DEVCTL bits kept virtual: FLR (emulated), MPS (system-wide), MRRS. */
#define VDPCI_DEVCTL_VIRT	(PCI_EXP_DEVCTL_BCR_FLR | \
				 PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ)

/*
 * PCI Express: read from the device (status stays live).  Device Control
 * and Device Control 2 are written, as upstream allows: not the Phantom
 * Functions enable (the IOMMU would see requester IDs it does not know),
 * not ARI forwarding (set by the PCI core at probe).  FLR, MPS and MRRS
 * are virtual: see vdpci_config_write_devctl().
 */
static const struct vdpci_reg_rule vdpci_exp_rules[] = {
	{ PCI_EXP_FLAGS, PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 - PCI_EXP_FLAGS, 0, 0 },
	{ PCI_EXP_DEVCTL, 2, VDPCI_DEVCTL_VIRT,
	  0xffff & ~PCI_EXP_DEVCTL_PHANTOM },
	{ PCI_EXP_DEVCTL2, 2, 0, 0xffff & ~PCI_EXP_DEVCTL2_ARI },
};

/* Vendor-specific: the device's own registers, passed through. */
static const struct vdpci_reg_rule vdpci_vndr_rules[] = {
	{ 2, 2, 0xffff, 0 },	/* the length byte and the next one: virtual */
	{ 4, 252, 0, 0xffffffff },
};

static const struct vdpci_cap_rule vdpci_cap_rules[] = {
	{ PCI_CAP_ID_PM, vdpci_pm_rules, ARRAY_SIZE(vdpci_pm_rules) },
	{ PCI_CAP_ID_MSI, vdpci_msi_rules, ARRAY_SIZE(vdpci_msi_rules) },
	{ PCI_CAP_ID_MSIX, vdpci_msix_rules, ARRAY_SIZE(vdpci_msix_rules) },
	{ PCI_CAP_ID_EXP, vdpci_exp_rules, ARRAY_SIZE(vdpci_exp_rules) },
	{ PCI_CAP_ID_VNDR, vdpci_vndr_rules, ARRAY_SIZE(vdpci_vndr_rules) },
};

/* Extended capabilities shown, read-only: error reporting, serial number. */
static const u16 vdpci_ext_caps_shown[] = {
	PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID_DSN,
};

static const struct vdpci_cap_rule *vdpci_find_rule(u8 id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vdpci_cap_rules); i++)
		if (vdpci_cap_rules[i].id == id)
			return &vdpci_cap_rules[i];
	return NULL;
}

/**
 * vdpci_core_config_perm() - set the masks of a range of config space
 * @vdev: an open device
 * @pos: first byte
 * @len: bytes
 * @virt: per byte, the bits read from the virtual copy (else the device)
 * @write: per byte, the bits user space may write
 *
 * For variant drivers, after vdpci_core_open_device(): what the library
 * decided for a range is replaced.  Context: process, before user space
 * accesses config space.
 */
void vdpci_core_config_perm(struct vdpci_core_device *vdev, unsigned int pos,
			    unsigned int len, u8 virt, u8 write)
{
	if (pos >= vdev->pdev->cfg_size)
		return;
	len = min(len, vdev->pdev->cfg_size - pos);
	memset(vdev->cfg_virt + pos, virt, len);
	memset(vdev->cfg_write + pos, write, len);
}
EXPORT_SYMBOL_NS_GPL(vdpci_core_config_perm, VFIODEV_PCI_CORE_NS);

static void vdpci_apply_rules(struct vdpci_core_device *vdev,
			      unsigned int base, unsigned int cap_len,
			      const struct vdpci_reg_rule *rules,
			      unsigned int n)
{
	unsigned int i, b;

	for (i = 0; i < n; i++) {
		const struct vdpci_reg_rule *r = &rules[i];
		unsigned int len = min_t(unsigned int, r->len,
					 cap_len > r->off ? cap_len - r->off : 0);

		for (b = 0; b < len; b++) {
			unsigned int pos = base + r->off + b;
			unsigned int sh = 8 * (b % 4);

			if (pos >= vdev->pdev->cfg_size)
				break;
			vdev->cfg_virt[pos] = r->virt >> sh;
			vdev->cfg_write[pos] = r->write >> sh;
		}
	}
}

/* How many bytes a standard capability at @pos covers. */
static unsigned int vdpci_cap_len(struct vdpci_core_device *vdev, u8 id,
				  unsigned int pos)
{
	u8 *v = vdev->vconfig;
	u16 flags;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		flags = le16_to_cpu(*(__le16 *)&v[pos + PCI_MSI_FLAGS]);
		return 10 + (flags & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
		       (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		/* Version 1 has no "2" registers (QEMU's e1000e: at 0xe0). */
		flags = le16_to_cpu(*(__le16 *)&v[pos + PCI_EXP_FLAGS]);
		return (flags & PCI_EXP_FLAGS_VERS) > 1 ?
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 :
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	case PCI_CAP_ID_VNDR:
		return max_t(unsigned int, v[pos + PCI_CAP_FLAGS], 3);
	default:
		return 2;
	}
}

/*
 * The standard capability chain: the ones with a rule stay, linked in the
 * order the device has them; the others are taken out.
 */
static void vdpci_config_caps(struct vdpci_core_device *vdev)
{
	u8 *v = vdev->vconfig;
	unsigned int pos, prev = PCI_CAPABILITY_LIST, ttl = 48;
	const struct vdpci_cap_rule *rule;

	if (!(le16_to_cpu(*(__le16 *)&v[PCI_STATUS]) & PCI_STATUS_CAP_LIST)) {
		v[PCI_CAPABILITY_LIST] = 0;
		return;
	}
	pos = v[PCI_CAPABILITY_LIST] & ~3;
	v[PCI_CAPABILITY_LIST] = 0;
	while (pos >= PCI_STD_HEADER_SIZEOF && ttl--) {
		u8 id = v[pos + PCI_CAP_LIST_ID];
		u8 next = v[pos + PCI_CAP_LIST_NEXT] & ~3;
		unsigned int len = vdpci_cap_len(vdev, id, pos);

		rule = vdpci_find_rule(id);
		if (rule && pos + len <= PCI_CFG_SPACE_SIZE) {
			/* Link it behind the last shown one. */
			v[prev] = pos;
			v[pos + PCI_CAP_LIST_NEXT] = 0;
			prev = pos + PCI_CAP_LIST_NEXT;
			vdpci_apply_rules(vdev, pos, len, rule->rules,
					  rule->n);
		} else {
			/* Hidden: what it held reads as zero. */
			memset(v + pos, 0, min_t(unsigned int, len,
						 PCI_CFG_SPACE_SIZE - pos));
		}
		pos = next;
	}
	if (!v[PCI_CAPABILITY_LIST])
		*(__le16 *)&v[PCI_STATUS] &= cpu_to_le16(~PCI_STATUS_CAP_LIST);
}

static bool vdpci_ext_cap_shown(u16 id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vdpci_ext_caps_shown); i++)
		if (vdpci_ext_caps_shown[i] == id)
			return true;
	return false;
}

/*
 * Extended capabilities: the shown ones stay, read-only; the chain starts
 * at 0x100 whatever is hidden, so a hidden first one leaves a header with
 * ID 0 that points on.
 */
static void vdpci_config_ext_caps(struct vdpci_core_device *vdev)
{
	u8 *v = vdev->vconfig;
	unsigned int pos = PCI_CFG_SPACE_SIZE, prev = 0, ttl = 480;
	__le32 *hdrp;
	u32 hdr;

	if (vdev->pdev->cfg_size <= PCI_CFG_SPACE_SIZE)
		return;
	while (pos >= PCI_CFG_SPACE_SIZE && pos < PCI_CFG_SPACE_EXP_SIZE &&
	       ttl--) {
		hdrp = (__le32 *)&v[pos];
		hdr = le32_to_cpu(*hdrp);
		if (!hdr || hdr == U32_MAX)
			break;
		if (vdpci_ext_cap_shown(PCI_EXT_CAP_ID(hdr))) {
			if (prev) {
				__le32 *p = (__le32 *)&v[prev];

				*p = cpu_to_le32((le32_to_cpu(*p) & 0xfffff) |
						 (pos << 20));
			} else if (pos != PCI_CFG_SPACE_SIZE) {
				/* An empty first header pointing here. */
				*(__le32 *)&v[PCI_CFG_SPACE_SIZE] =
					cpu_to_le32(pos << 20);
			}
			*hdrp = cpu_to_le32(hdr & 0xfffff);
			prev = pos;
		} else {
			/* Keep the first header's place until one is shown. */
			*hdrp = 0;
		}
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
}

/*
 * The BARs and the ROM BAR: their size masks and flag bits, from the
 * resources; no address is shown until user space writes one.
 */
static void vdpci_config_bars(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	__le32 *bar = (__le32 *)&vdev->vconfig[PCI_BASE_ADDRESS_0];
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		u64 size = pci_resource_len(pdev, i);
		u32 flags = le32_to_cpu(bar[i]);

		vdev->bar_mask[i] = 0;
		vdev->bar_flags[i] = 0;
		bar[i] = 0;
		if (!size)
			continue;
		if (flags & PCI_BASE_ADDRESS_SPACE_IO) {
			vdev->bar_mask[i] = ~(u32)(size - 1) &
					    PCI_BASE_ADDRESS_IO_MASK;
			vdev->bar_flags[i] = flags & ~PCI_BASE_ADDRESS_IO_MASK;
			continue;
		}
		vdev->bar_mask[i] = ~(u32)(size - 1) & PCI_BASE_ADDRESS_MEM_MASK;
		vdev->bar_flags[i] = flags & ~PCI_BASE_ADDRESS_MEM_MASK;
		if ((flags & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    PCI_BASE_ADDRESS_MEM_TYPE_64 && i + 1 < PCI_STD_NUM_BARS) {
			/* The upper half: the size's upper bits. */
			i++;
			vdev->bar_mask[i] = ~(u32)((size - 1) >> 32);
			vdev->bar_flags[i] = 0;
			bar[i] = 0;
		}
	}

	vdev->rom_mask = 0;
	if (pci_resource_len(pdev, PCI_ROM_RESOURCE))
		vdev->rom_mask = ~(u32)(pci_resource_len(pdev,
							 PCI_ROM_RESOURCE) - 1) &
				 PCI_ROM_ADDRESS_MASK;
	*(__le32 *)&vdev->vconfig[PCI_ROM_ADDRESS] = 0;
}

/**
 * vdpci_config_init() - the virtual config space of a device being opened
 * @vdev: the device, enabled and saved
 *
 * Return: 0 or -ENOMEM.
 */
int vdpci_config_init(struct vdpci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int size = pdev->cfg_size, pos;
	u32 val;

	vdev->vconfig = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_virt = kzalloc(size, GFP_KERNEL_ACCOUNT);
	vdev->cfg_write = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!vdev->vconfig || !vdev->cfg_virt || !vdev->cfg_write) {
		vdpci_config_free(vdev);
		return -ENOMEM;
	}
	mutex_init(&vdev->cfg_lock);

	for (pos = 0; pos < size; pos += 4) {
		if (pci_read_config_dword(pdev, pos, &val))
			val = U32_MAX;
		*(__le32 *)&vdev->vconfig[pos] = cpu_to_le32(val);
	}
	/* Everything virtual and read-only, then the rules. */
	memset(vdev->cfg_virt, 0xff, size);
	vdpci_apply_rules(vdev, 0, PCI_STD_HEADER_SIZEOF, vdpci_header_rules,
			  ARRAY_SIZE(vdpci_header_rules));
	vdpci_config_bars(vdev);
	vdpci_config_caps(vdev);
	vdpci_config_ext_caps(vdev);
	if (pdev->pm_cap) {
		pos = pdev->pm_cap;
		*(__le16 *)&vdev->vconfig[pos + PCI_PM_PMC] &=
			cpu_to_le16(0xffff & ~PCI_PM_CAP_PME_MASK);
		*(__le16 *)&vdev->vconfig[pos + PCI_PM_CTRL] &=
			cpu_to_le16(0xffff & ~VDPCI_PM_CTRL_VIRT);
	}
	return 0;
}

/**
 * vdpci_config_free() - undo vdpci_config_init()
 * @vdev: the device being closed
 */
void vdpci_config_free(struct vdpci_core_device *vdev)
{
	kfree(vdev->vconfig);
	kfree(vdev->cfg_virt);
	kfree(vdev->cfg_write);
	vdev->vconfig = NULL;
	vdev->cfg_virt = NULL;
	vdev->cfg_write = NULL;
}

/* What a BAR register reads: the address written, cut to the size. */
static u32 vdpci_bar_value(struct vdpci_core_device *vdev, unsigned int pos)
{
	u32 v = le32_to_cpu(*(__le32 *)&vdev->vconfig[pos]);
	int i;

	if (pos == PCI_ROM_ADDRESS)
		return vdev->rom_mask ?
		       v & (vdev->rom_mask | PCI_ROM_ADDRESS_ENABLE) : 0;
	i = (pos - PCI_BASE_ADDRESS_0) / 4;
	if (!vdev->bar_mask[i])
		return 0;
	return (v & vdev->bar_mask[i]) | vdev->bar_flags[i];
}

static bool vdpci_is_bar(unsigned int pos)
{
	return (pos >= PCI_BASE_ADDRESS_0 && pos <= PCI_BASE_ADDRESS_5) ||
	       pos == PCI_ROM_ADDRESS;
}

/* One naturally aligned read of @len bytes at @pos. */
static int vdpci_config_read_one(struct vdpci_core_device *vdev,
				 unsigned int pos, unsigned int len, u32 *out)
{
	unsigned int dpos = pos & ~3, sh = 8 * (pos & 3), b;
	u32 virt = 0, vval, phys = 0;
	int ret;

	for (b = 0; b < 4; b++)
		virt |= (u32)vdev->cfg_virt[dpos + b] << (8 * b);
	if (vdpci_is_bar(dpos))
		vval = vdpci_bar_value(vdev, dpos);
	else
		vval = le32_to_cpu(*(__le32 *)&vdev->vconfig[dpos]);

	if (~virt & (len == 4 ? U32_MAX : ((1U << (8 * len)) - 1) << sh)) {
		ret = pci_user_read_config_dword(vdev->pdev, dpos, &phys);
		if (ret)
			return ret;
	}
	*out = ((vval & virt) | (phys & ~virt)) >> sh;
	if (len < 4)
		*out &= (1U << (8 * len)) - 1;
	return 0;
}

/* The command register: some bits to the device, all of them to vconfig. */
static int vdpci_config_write_cmd(struct vdpci_core_device *vdev, u16 new)
{
	__le16 *vcmd = (__le16 *)&vdev->vconfig[PCI_COMMAND];
	u16 old = le16_to_cpu(*vcmd), phys;
	int ret;

	if ((old & PCI_COMMAND_MEMORY) && !(new & PCI_COMMAND_MEMORY))
		vdpci_zap_and_down_write_memory_lock(vdev);
	else
		down_write(&vdev->memory_lock);

	ret = pci_user_read_config_word(vdev->pdev, PCI_COMMAND, &phys);
	if (!ret) {
		phys = (phys & ~VDPCI_CMD_PASSTHROUGH) |
		       (new & VDPCI_CMD_PASSTHROUGH);
		ret = pci_user_write_config_word(vdev->pdev, PCI_COMMAND,
						 phys);
	}
	if (!ret)
		*vcmd = cpu_to_le16(new);
	up_write(&vdev->memory_lock);
	return ret;
}

/*
 * After a write to Device Control: an FLR asked for is done (if the device
 * can do one) with user access to the BARs stopped, and the bit reads as 0
 * again, as the spec has it; a new Max Read Request Size reaches the
 * device, but never below its Max Payload Size, which only the PCI core
 * sets (a lower MRRS would only cost bandwidth).  As upstream does.
 */
static void vdpci_config_write_devctl(struct vdpci_core_device *vdev,
				      u16 old)
{
	struct pci_dev *pdev = vdev->pdev;
	__le16 *vctl = (__le16 *)&vdev->vconfig[pdev->pcie_cap +
						 PCI_EXP_DEVCTL];
	u16 ctl = le16_to_cpu(*vctl);
	u32 cap;

	if (ctl & PCI_EXP_DEVCTL_BCR_FLR) {
		ctl &= ~PCI_EXP_DEVCTL_BCR_FLR;
		*vctl = cpu_to_le16(ctl);
		if (!pci_user_read_config_dword(pdev, pdev->pcie_cap +
						PCI_EXP_DEVCAP, &cap) &&
		    (cap & PCI_EXP_DEVCAP_FLR)) {
			vdpci_zap_and_down_write_memory_lock(vdev);
			pci_try_reset_function(pdev);
			up_write(&vdev->memory_lock);
		}
	}
	if ((ctl ^ old) & PCI_EXP_DEVCTL_READRQ)
		pcie_set_readrq(pdev, max(128 << ((ctl & PCI_EXP_DEVCTL_READRQ) >> 12),
					  pcie_get_mps(pdev)));
}

/*
 * A power state written to PM_CTRL: the library moves the device there,
 * with user access to the BARs stopped (and their mappings gone before a
 * state in which the device decodes nothing), as upstream does.  A state
 * the device cannot take leaves it where it is; the register shows where
 * that is.
 */
static void vdpci_config_write_pm(struct vdpci_core_device *vdev, u32 bits)
{
	static const pci_power_t states[] = {
		PCI_D0, PCI_D1, PCI_D2, PCI_D3hot,
	};
	pci_power_t state = states[bits & PCI_PM_CTRL_STATE_MASK];

	if (vdpci_state_d3(state))
		vdpci_zap_and_down_write_memory_lock(vdev);
	else
		down_write(&vdev->memory_lock);
	vdpci_set_power_state(vdev, state);
	up_write(&vdev->memory_lock);
}

/* One naturally aligned write of @len bytes of @val at @pos. */
static int vdpci_config_write_one(struct vdpci_core_device *vdev,
				  unsigned int pos, unsigned int len, u32 val)
{
	unsigned int dpos = pos & ~3, sh = 8 * (pos & 3), b;
	u32 virt = 0, write = 0, lanes, cur, phys, old_devctl;
	__le32 *vp = (__le32 *)&vdev->vconfig[dpos];
	bool devctl, pm_state;
	int ret;

	for (b = 0; b < 4; b++) {
		virt |= (u32)vdev->cfg_virt[dpos + b] << (8 * b);
		write |= (u32)vdev->cfg_write[dpos + b] << (8 * b);
	}
	lanes = (len == 4 ? U32_MAX : (1U << (8 * len)) - 1) << sh;
	val <<= sh;
	pm_state = vdev->pdev->pm_cap &&
		   dpos == vdev->pdev->pm_cap + PCI_PM_CTRL &&
		   (lanes & PCI_PM_CTRL_STATE_MASK);
	write &= lanes;
	if (!write && !pm_state)
		return 0;

	if (dpos == PCI_COMMAND && (write & 0xffff)) {
		u16 cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);

		cmd = (cmd & ~write) | (val & write);
		ret = vdpci_config_write_cmd(vdev, cmd);
		if (ret || !(write & ~0xffffU))
			return ret;
		write &= ~0xffffU;
	}

	/* Virtual bits: into vconfig. */
	cur = le32_to_cpu(*vp);
	devctl = vdev->pdev->pcie_cap && dpos == vdev->pdev->pcie_cap +
						 PCI_EXP_DEVCTL &&
		 (write & 0xffff);
	old_devctl = cur;
	cur = (cur & ~(write & virt)) | (val & write & virt);
	/*
	 * MSI is turned on with VFIO_DEVICE_SET_IRQS; its enable bit reads
	 * as set only while it is on, as upstream has it.
	 */
	if (vdev->pdev->msi_cap && dpos == vdev->pdev->msi_cap &&
	    READ_ONCE(vdev->irq_type) != VFIO_PCI_MSI_IRQ_INDEX)
		cur &= ~((u32)PCI_MSI_FLAGS_ENABLE << 16);
	*vp = cpu_to_le32(cur);

	/* The others: read, modify, write the device. */
	if (write & ~virt) {
		ret = pci_user_read_config_dword(vdev->pdev, dpos, &phys);
		if (ret)
			return ret;
		phys = (phys & ~(write & ~virt)) | (val & write & ~virt);
		if (len == 4)
			ret = pci_user_write_config_dword(vdev->pdev, dpos,
							  phys);
		else if (len == 2)
			ret = pci_user_write_config_word(vdev->pdev, pos,
							 phys >> sh);
		else
			ret = pci_user_write_config_byte(vdev->pdev, pos,
							 phys >> sh);
		if (ret)
			return ret;
	}
	if (devctl)
		vdpci_config_write_devctl(vdev, old_devctl);
	if (pm_state)
		vdpci_config_write_pm(vdev, val & PCI_PM_CTRL_STATE_MASK);
	return 0;
}

/**
 * vdpci_config_rw() - read or write region 7
 * @vdev: an open device
 * @buf: user buffer
 * @count: bytes
 * @ppos: region index and offset; advanced by what was done
 * @iswrite: direction
 *
 * Accesses go in naturally aligned pieces of 4, 2 or 1 bytes, copied to
 * and from user space outside every lock.
 *
 * Return: bytes done; -EFAULT for an access that does not fit in config
 * space (upstream's answer) or a bad buffer; or the device's config access
 * error.
 */
ssize_t vdpci_config_rw(struct vdpci_core_device *vdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	loff_t pos = *ppos & VDPCI_OFFSET_MASK;
	unsigned int size = vdev->pdev->cfg_size;
	ssize_t done = 0;
	int ret;

	/* Upstream's answer to any access that does not fit: EFAULT. */
	if (pos >= size || count > size - pos)
		return -EFAULT;

	while (count) {
		unsigned int len;
		u32 val = 0;

		if (count >= 4 && !(pos & 3))
			len = 4;
		else if (count >= 2 && !(pos & 1))
			len = 2;
		else
			len = 1;

		if (iswrite) {
			if (copy_from_user(&val, buf, len))
				return done ? done : -EFAULT;
			val = le32_to_cpu((__force __le32)val);
			mutex_lock(&vdev->cfg_lock);
			ret = vdpci_config_write_one(vdev, pos, len, val);
			mutex_unlock(&vdev->cfg_lock);
		} else {
			mutex_lock(&vdev->cfg_lock);
			ret = vdpci_config_read_one(vdev, pos, len, &val);
			mutex_unlock(&vdev->cfg_lock);
			val = (__force u32)cpu_to_le32(val);
			if (!ret && copy_to_user(buf, &val, len))
				ret = -EFAULT;
		}
		if (ret)
			return done ? done : ret;
		pos += len;
		buf += len;
		count -= len;
		done += len;
	}
	*ppos += done;
	return done;
}

/**
 * vdpci_memory_enabled() - does user space let the device decode memory
 * @vdev: an open device
 *
 * Context: memory_lock held.
 *
 * Return: the Memory Space bit of the virtual command register, and false
 * while user space has the device in D3hot (it decodes nothing then).
 */
bool vdpci_memory_enabled(struct vdpci_core_device *vdev)
{
	u16 cmd = le16_to_cpu(*(__le16 *)&vdev->vconfig[PCI_COMMAND]);

	return !vdpci_state_d3(vdev->pdev->current_state) &&
	       (cmd & PCI_COMMAND_MEMORY);
}
