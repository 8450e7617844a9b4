def count_primes(lo, hi):
    def is_prime(x):
        if x < 2:
            return False
        d = 2
        while d * d <= x:
            if x % d == 0:
                return False
            d += 1
        return True

    return sum(1 for x in range(lo, hi + 1) if is_prime(x))
