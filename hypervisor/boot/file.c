#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hypervisor/boot/loader.h"

int loader__read_file(const char *path, size_t max, uint8_t **buf, size_t *size)
{
	struct stat st;
	size_t done = 0;
	uint8_t *p;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	p = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, p + done, (size_t)st.st_size - done);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			free(p);
			goto out;
		}
		done += (size_t)n;
	}
	*buf = p;
	*size = done;
out:
	close(fd);
	return ret;
}

int loader__is_elf(const char *path)
{
	unsigned char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	ok = read(fd, magic, 4) == 4 && magic[0] == 0x7f && magic[1] == 'E' &&
	     magic[2] == 'L' && magic[3] == 'F';
	close(fd);
	return ok;
}
