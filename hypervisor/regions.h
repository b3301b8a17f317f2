#ifndef VIOSCOPE__REGIONS_H
#define VIOSCOPE__REGIONS_H

struct kvm;

/* Starts publishing kvm's region map (lib/regions.h) and keeps it current. */
void regions__publish(struct kvm *kvm);
/* Stops and removes the file. */
void regions__unpublish(struct kvm *kvm);

#endif /* VIOSCOPE__REGIONS_H */
