// SPDX-License-Identifier: GPL-2.0
/*
 * vfiodev core: eventfds that make the kernel act when user space (or KVM,
 * for a guest) signals them.  The PCI library uses one to unmask INTx when
 * KVM's resampler says the guest has served the interrupt, without a trip
 * through the VMM; VFIO_DEVICE_IOEVENTFD writes a register the same way.
 *
 * The eventfd's wait queue gets an entry of ours: a wakeup with EPOLLIN
 * consumes the count and calls the driver's handler right there (atomic
 * context, the eventfd's wait queue lock held); when the handler returns
 * true, or has none, the driver's thread function runs from a work item.
 * EPOLLHUP (the eventfd's last reference gone) or vfiodev_virqfd_disable()
 * detach it: the shutdown work takes the entry off the wait queue, waits
 * for the thread work and frees it, on a workqueue of its own so that
 * disabling can wait for every shutdown queued before.
 *
 * Locking: vfiodev_virqfd_lock (a spinlock, taken with interrupts off: the
 * wakeup runs with them off) guards the driver's pointer to its virqfd,
 * which is how a virqfd being shut down is told from a live one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "../compat.h"
#include "vfiodev_priv.h"

/**
 * struct vfiodev_virqfd - an eventfd the kernel acts on
 * @opaque: the driver's, for @handler and @thread
 * @eventfd: the eventfd (a reference)
 * @handler: called on each signal in atomic context, or NULL; true: run
 *	@thread as well
 * @thread: called from @inject in process context, or NULL
 * @data: the driver's, for @handler and @thread
 * @inject: runs @thread
 * @wait: our entry on the eventfd's wait queue
 * @pt: to get @wait onto that queue with vfs_poll()
 * @shutdown: detaches and frees, on vfiodev_virqfd_wq
 * @pvirqfd: the driver's pointer to this virqfd, cleared under
 *	vfiodev_virqfd_lock when the shutdown is queued
 */
struct vfiodev_virqfd {
	void *opaque;
	struct eventfd_ctx *eventfd;
	bool (*handler)(void *opaque, void *data);
	void (*thread)(void *opaque, void *data);
	void *data;
	struct work_struct inject;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
	struct vfiodev_virqfd **pvirqfd;
};

static struct workqueue_struct *vfiodev_virqfd_wq;
static DEFINE_SPINLOCK(vfiodev_virqfd_lock);

/* Under vfiodev_virqfd_lock: the shutdown of @virqfd, once. */
static void vfiodev_virqfd_deactivate(struct vfiodev_virqfd *virqfd)
{
	queue_work(vfiodev_virqfd_wq, &virqfd->shutdown);
}

static int vfiodev_virqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
				 int sync, void *key)
{
	struct vfiodev_virqfd *virqfd =
		container_of(wait, struct vfiodev_virqfd, wait);
	__poll_t flags = key_to_poll(key);

	if (flags & EPOLLIN) {
		u64 cnt;

		eventfd_ctx_do_read(virqfd->eventfd, &cnt);
		if ((!virqfd->handler ||
		     virqfd->handler(virqfd->opaque, virqfd->data)) &&
		    virqfd->thread)
			schedule_work(&virqfd->inject);
	}

	if (flags & EPOLLHUP) {
		unsigned long irqflags;

		spin_lock_irqsave(&vfiodev_virqfd_lock, irqflags);
		/* Not if vfiodev_virqfd_disable() got there first. */
		if (*virqfd->pvirqfd == virqfd) {
			*virqfd->pvirqfd = NULL;
			vfiodev_virqfd_deactivate(virqfd);
		}
		spin_unlock_irqrestore(&vfiodev_virqfd_lock, irqflags);
	}
	return 0;
}

static void vfiodev_virqfd_ptable_queue_proc(struct file *file,
					     wait_queue_head_t *wqh,
					     poll_table *pt)
{
	struct vfiodev_virqfd *virqfd =
		container_of(pt, struct vfiodev_virqfd, pt);

	add_wait_queue(wqh, &virqfd->wait);
}

static void vfiodev_virqfd_shutdown(struct work_struct *work)
{
	struct vfiodev_virqfd *virqfd =
		container_of(work, struct vfiodev_virqfd, shutdown);
	u64 cnt;

	eventfd_ctx_remove_wait_queue(virqfd->eventfd, &virqfd->wait, &cnt);
	flush_work(&virqfd->inject);
	eventfd_ctx_put(virqfd->eventfd);
	kfree(virqfd);
}

static void vfiodev_virqfd_inject(struct work_struct *work)
{
	struct vfiodev_virqfd *virqfd =
		container_of(work, struct vfiodev_virqfd, inject);

	virqfd->thread(virqfd->opaque, virqfd->data);
}

/**
 * vfiodev_virqfd_enable() - act on each signal of an eventfd
 * @opaque: passed to @handler and @thread
 * @handler: called in atomic context on each signal, or NULL; returns true
 *	to have @thread run too
 * @thread: called in process context after @handler said so (or on each
 *	signal without @handler), or NULL
 * @data: passed to @handler and @thread
 * @pvirqfd: where the driver keeps the virqfd; NULL until now, and set
 *	back to NULL when the virqfd goes (disabled, or the eventfd closed
 *	for good)
 * @fd: the eventfd, from user space
 *
 * An eventfd already signalled is acted on at once.  Context: process.
 *
 * Return: 0; -EBUSY when @pvirqfd holds a virqfd; -EBADF, -EINVAL (not an
 * eventfd), -ENOMEM.
 */
int vfiodev_virqfd_enable(void *opaque,
			  bool (*handler)(void *opaque, void *data),
			  void (*thread)(void *opaque, void *data),
			  void *data, struct vfiodev_virqfd **pvirqfd, int fd)
{
	struct vfiodev_virqfd *virqfd;
	struct eventfd_ctx *ctx;
	__poll_t events;
	struct fd f;
	int ret = 0;

	virqfd = kzalloc(sizeof(*virqfd), GFP_KERNEL_ACCOUNT);
	if (!virqfd)
		return -ENOMEM;
	virqfd->pvirqfd = pvirqfd;
	virqfd->opaque = opaque;
	virqfd->handler = handler;
	virqfd->thread = thread;
	virqfd->data = data;
	INIT_WORK(&virqfd->shutdown, vfiodev_virqfd_shutdown);
	INIT_WORK(&virqfd->inject, vfiodev_virqfd_inject);

	f = fdget(fd);
	if (!fd_file(f)) {
		ret = -EBADF;
		goto err_free;
	}
	ctx = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(ctx)) {
		ret = PTR_ERR(ctx);
		goto err_fdput;
	}
	virqfd->eventfd = ctx;

	/*
	 * Published before it is on the wait queue: a hang-up seen by the
	 * wakeup finds it.  A second enable on the same pointer loses.
	 */
	spin_lock_irq(&vfiodev_virqfd_lock);
	if (*pvirqfd) {
		spin_unlock_irq(&vfiodev_virqfd_lock);
		ret = -EBUSY;
		goto err_put;
	}
	*pvirqfd = virqfd;
	spin_unlock_irq(&vfiodev_virqfd_lock);

	init_waitqueue_func_entry(&virqfd->wait, vfiodev_virqfd_wakeup);
	init_poll_funcptr(&virqfd->pt, vfiodev_virqfd_ptable_queue_proc);
	events = vfs_poll(fd_file(f), &virqfd->pt);

	/* Signalled before we listened: act on it now. */
	if (events & EPOLLIN) {
		if ((!handler || handler(opaque, data)) && thread)
			schedule_work(&virqfd->inject);
	}
	fdput(f);
	return 0;

err_put:
	eventfd_ctx_put(ctx);
err_fdput:
	fdput(f);
err_free:
	kfree(virqfd);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(vfiodev_virqfd_enable, VFIODEV_NS);

/**
 * vfiodev_virqfd_disable() - stop acting on an eventfd
 * @pvirqfd: the driver's pointer, as given to vfiodev_virqfd_enable()
 *
 * Returns when no handler or thread function of it runs any more, and
 * none will.  Nothing to do when *@pvirqfd is NULL.  Context: process; no
 * lock the thread function takes may be held.
 */
void vfiodev_virqfd_disable(struct vfiodev_virqfd **pvirqfd)
{
	unsigned long flags;

	spin_lock_irqsave(&vfiodev_virqfd_lock, flags);
	if (*pvirqfd) {
		vfiodev_virqfd_deactivate(*pvirqfd);
		*pvirqfd = NULL;
	}
	spin_unlock_irqrestore(&vfiodev_virqfd_lock, flags);

	/* Ours, and any a hang-up queued meanwhile: all gone. */
	flush_workqueue(vfiodev_virqfd_wq);
}
EXPORT_SYMBOL_NS_GPL(vfiodev_virqfd_disable, VFIODEV_NS);

int vfiodev_virqfd_init(void)
{
	vfiodev_virqfd_wq = alloc_workqueue("vfiodev-irqfd-cleanup",
					    WQ_UNBOUND, 0);
	return vfiodev_virqfd_wq ? 0 : -ENOMEM;
}

void vfiodev_virqfd_exit(void)
{
	destroy_workqueue(vfiodev_virqfd_wq);
}
