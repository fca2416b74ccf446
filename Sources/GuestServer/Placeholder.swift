import GuestStore
