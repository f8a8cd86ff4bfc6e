package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/quotatop/quotatop/source"
	"github.com/redis/go-redis/v9"
)

// Gateway is a running demo: an embedded Redis holding the fleet, and its simulator.
type Gateway struct {
	Redis  *miniredis.Miniredis
	Sim    *Sim
	Reader *source.Redis
	client *redis.Client
}

// Start seeds an in-process Redis with the demo fleet as it stands at now.
func Start(now time.Time, prefix string) (*Gateway, error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("start the embedded demo Redis: %w", err)
	}
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), DisableIdentity: true})
	sim := NewSim(Fleet(now), client, prefix)
	if err := sim.Publish(context.Background()); err != nil {
		mr.Close()
		return nil, fmt.Errorf("seed the embedded demo Redis: %w", err)
	}
	reader := source.NewRedis(redis.NewClient(&redis.Options{Addr: mr.Addr(), DisableIdentity: true}), prefix, "demo, embedded Redis "+mr.Addr())
	return &Gateway{Redis: mr, Sim: sim, Reader: reader, client: client}, nil
}

// Close stops everything.
func (g *Gateway) Close() {
	g.Reader.Close()
	g.client.Close()
	g.Redis.Close()
}
