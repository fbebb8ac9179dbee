import { describe, expect, it } from 'vitest'
import { isSecureOrLoopback } from '../src/url.js'

describe('isSecureOrLoopback', () => {
  it.each([
    'https://auth.example.com',
    'https://10.0.0.1:8443/x',
    'http://localhost:4000',
    'http://127.0.0.1/jwks',
    'http://[::1]:9000',
  ])('accepts %s', (url) => {
    expect(isSecureOrLoopback(new URL(url))).toBe(true)
  })

  it.each([
    'http://auth.example.com',
    'http://127.0.0.2',
    'http://localhost.example.com',
    'ftp://localhost',
    'file:///etc/passwd',
  ])('refuses %s (RFC 9700 §4.1: TLS outside loopback)', (url) => {
    expect(isSecureOrLoopback(new URL(url))).toBe(false)
  })
})
