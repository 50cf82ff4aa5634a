package inspect

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/apimctl/apimctl/ops/model"
)

// Logs streams a container's log to line: the whole log (or its last TailLines), then, with
// Follow, every new line until ctx ends. The API server's refusals come back as one clear
// line: a container that never started ("is waiting to start: ContainerCreating"), no
// previous instance, a pod that is gone.
func (i *Inspector) Logs(ctx context.Context, req model.LogRequest, line func(string)) error {
	k, err := i.kube()
	if err != nil {
		return err
	}
	ns := i.namespace(req.Namespace)
	opts := &corev1.PodLogOptions{Container: req.Container, Follow: req.Follow, Previous: req.Previous}
	if req.TailLines > 0 {
		tail := req.TailLines
		opts.TailLines = &tail
	}
	err = k.StreamLogs(ctx, ns, req.Pod, opts, line)
	switch {
	case err == nil || ctx.Err() != nil:
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("pod %s/%s no longer exists", ns, req.Pod)
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Message != "" {
		return errors.New(st.Status().Message)
	}
	return fmt.Errorf("logs of %s/%s: %w", ns, req.Pod, err)
}
