package kube

import (
	"context"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Action is something the console may offer: a verb on a resource (optionally a
// subresource) in API group Group. Key() names it as "resource/verb" or
// "resource/subresource/verb".
type Action struct {
	Group, Resource, Subresource, Verb string
}

// Key is the action's name in access maps.
func (a Action) Key() string {
	parts := []string{a.Resource}
	if a.Subresource != "" {
		parts = append(parts, a.Subresource)
	}
	return strings.Join(append(parts, a.Verb), "/")
}

// Allowed asks the API server (SelfSubjectAccessReview) whether the current identity may do
// each action in namespace.
func (c *Client) Allowed(ctx context.Context, namespace string, actions []Action) (map[string]bool, error) {
	out := make(map[string]bool, len(actions))
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, a := range actions {
		wg.Go(func() {
			r, err := c.Clientset.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: namespace, Group: a.Group, Resource: a.Resource, Subresource: a.Subresource, Verb: a.Verb,
				}},
			}, metav1.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			out[a.Key()] = r.Status.Allowed
		})
	}
	wg.Wait()
	return out, firstErr
}

// WhoAmI asks the API server who the current identity is (SelfSubjectReview).
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	r, err := c.Clientset.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}
