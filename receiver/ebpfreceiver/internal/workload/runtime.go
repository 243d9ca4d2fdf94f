package workload

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Where each runtime keeps a container's state on the host, relative to the host's /.
const (
	// containerd's CRI plugin: the OCI bundle of a task in the k8s.io namespace.
	containerdBundle = "run/containerd/io.containerd.runtime.v2.task/k8s.io"
	// CRI-O: the OCI config of a container, in containers/storage's run root.
	crioUserdata = "run/containers/storage/overlay-containers"
	// podman and CRI-O: containers/storage's index of containers, in its graph root.
	storageIndexFile = "var/lib/containers/storage/overlay-containers/containers.json"
	// docker: the daemon's own record of a container.
	dockerContainers = "var/lib/docker/containers"
)

// Bounds of the files read: an OCI config is a few KiB to some tens of KiB, containers.json a
// few hundred bytes per container.
const (
	maxConfigBytes = 1 << 20
	maxIndexBytes  = 8 << 20
)

// Annotations the CRI runtimes put on a container's OCI config.
const (
	annContainerdImage     = "io.kubernetes.cri.image-name"
	annContainerdName      = "io.kubernetes.cri.container-name"
	annContainerdPod       = "io.kubernetes.cri.sandbox-name"
	annContainerdNamespace = "io.kubernetes.cri.sandbox-namespace"
	annContainerdPodUID    = "io.kubernetes.cri.sandbox-uid"
	annCrioImage           = "io.kubernetes.cri-o.ImageName"
	annKubeContainerName   = "io.kubernetes.container.name"
	annKubePodName         = "io.kubernetes.pod.name"
	annKubePodNamespace    = "io.kubernetes.pod.namespace"
	annKubePodUID          = "io.kubernetes.pod.uid"
)

// container is what a runtime's state says about one container.
type container struct {
	image, name                   string
	podName, podNamespace, podUID string
}

// readContainer asks the state of the runtime the cgroup named (every known runtime when it named
// none) about container id. found is false when nothing was found.
func (r *Resolver) readContainer(runtime, id string, now time.Time) (container, bool) {
	if !IsHex64(id) {
		return container{}, false
	}
	root := r.opts.StateRoot
	try := func(rt string) bool { return runtime == "" || runtime == rt }
	if try("containerd") {
		if a, ok := readAnnotations(filepath.Join(root, containerdBundle, id, "config.json")); ok {
			return container{
				image: a[annContainerdImage], name: a[annContainerdName],
				podName: a[annContainerdPod], podNamespace: a[annContainerdNamespace], podUID: a[annContainerdPodUID],
			}, true
		}
	}
	if try("crio") {
		if a, ok := readAnnotations(filepath.Join(root, crioUserdata, id, "userdata", "config.json")); ok && a[annCrioImage] != "" {
			return container{
				image: a[annCrioImage], name: a[annKubeContainerName],
				podName: a[annKubePodName], podNamespace: a[annKubePodNamespace], podUID: a[annKubePodUID],
			}, true
		}
	}
	if try("crio") || try("podman") {
		if image := r.storage.image(filepath.Join(root, storageIndexFile), id, now, r.opts.Refresh, r.opts.MaxEntries); image != "" {
			return container{image: image}, true
		}
	}
	if try("docker") {
		if image := readDockerImage(filepath.Join(root, dockerContainers, id, "config.v2.json")); image != "" {
			return container{image: image}, true
		}
	}
	return container{}, false
}

// readAnnotations reads the annotations of an OCI runtime config.
func readAnnotations(path string) (map[string]string, bool) {
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if !readJSON(path, maxConfigBytes, &spec) {
		return nil, false
	}
	return spec.Annotations, true
}

// readDockerImage reads the image a docker container was created from (as the user named it).
func readDockerImage(path string) string {
	var c struct {
		Config struct {
			Image string `json:"Image"`
		} `json:"Config"`
	}
	if !readJSON(path, maxConfigBytes, &c) {
		return ""
	}
	return c.Config.Image
}

// readJSON decodes the file at path into v when it is at most max bytes long.
func readJSON(path string, max int64, v any) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil || int64(len(data)) > max {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// storageIndex caches containers/storage's containers.json: id -> image name.
type storageIndex struct {
	images map[string]string
	readAt time.Time
	mtime  time.Time // of the file at that read
	size   int64
}

// image returns the image of container id, re-reading the index when id is not in it and the file
// changed since the last read (a container was created) or that read is older than refresh.
func (s *storageIndex) image(path, id string, now time.Time, refresh time.Duration, max int) string {
	if img, ok := s.images[id]; ok {
		return img
	}
	var mtime time.Time
	var size int64
	if fi, err := os.Stat(path); err == nil {
		mtime, size = fi.ModTime(), fi.Size()
	}
	if !s.readAt.IsZero() && mtime.Equal(s.mtime) && size == s.size && now.Sub(s.readAt) < refresh {
		return ""
	}
	s.readAt, s.mtime, s.size = now, mtime, size
	var entries []struct {
		ID       string `json:"id"`
		Metadata string `json:"metadata"`
	}
	if !readJSON(path, maxIndexBytes, &entries) {
		return ""
	}
	s.images = make(map[string]string, min(len(entries), max))
	for _, e := range entries {
		if len(s.images) >= max {
			break
		}
		var md struct {
			ImageName string `json:"image-name"`
		}
		if e.Metadata == "" || json.Unmarshal([]byte(e.Metadata), &md) != nil || md.ImageName == "" {
			continue
		}
		s.images[e.ID] = md.ImageName
	}
	return s.images[id]
}
